// The dashboard's core: the live view over server-sent events, the node cards, the controls and the message
// timeline. Protocol panels live in panels.js, one small block per /status field (docs/dashboard.md).
'use strict';

const Dashboard = (() => {
  const panels = [];
  const viewListeners = [];
  let view = null;
  let launcher = { available: false, reason: 'unknown yet' };

  const $ = (id) => document.getElementById(id);
  const esc = (v) => String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
  const num = (v, digits = 0) => (v === null || v === undefined ? '–' : Number(v).toFixed(digits));

  // A panel: { field, title, render(rows) } where rows are [{ id, value }] for the nodes that answered and whose
  // /status carries the field. No row with a value: the panel is absent (its protocol is not running or not built).
  function panel(p) { panels.push(p); if (view) render(view); }

  // Called with each new view, after the page is drawn: for controls shown only while a protocol runs.
  function onView(f) { viewListeners.push(f); if (view) f(view); }

  async function control(what, method, url, body) {
    const entry = logEntry(`${what}…`, 'pending');
    try {
      const init = { method, headers: {} };
      if (body !== undefined) {
        init.body = typeof body === 'string' ? body : JSON.stringify(body);
        init.headers['Content-Type'] = typeof body === 'string' ? 'text/plain' : 'application/json';
      }
      const response = await fetch(url, init);
      let answer;
      try { answer = await response.json(); } catch { answer = { ok: false, message: `${what}: answered ${response.status} without JSON` }; }
      const ok = answer.ok === true;
      entry.textContent = answer.message ?? `${what}: ${response.status}`;
      entry.className = ok ? 'ok' : 'failed';
      return answer;
    } catch (e) {
      entry.textContent = `${what} failed: the page's server did not answer (${e.message})`;
      entry.className = 'failed';
      return { ok: false };
    }
  }

  function logEntry(text, cls) {
    const li = document.createElement('li');
    li.textContent = `${new Date().toLocaleTimeString()} ${text}`;
    li.className = cls;
    const log = $('control-log');
    log.insertBefore(li, log.firstChild);
    while (log.children.length > 50) log.removeChild(log.lastChild);
    return li;
  }

  const isolate = (id) => {
    const all = view.cluster.map((n) => n.id);
    const rest = all.filter((n) => n !== id);
    return control(`isolate node ${id}`, 'POST', '/dashboard/faults', { partition: `${id}/${rest.join(',')}` });
  };

  function nodeCard(n) {
    const s = n.status;
    const raft = s?.raft;
    const role = !n.up ? 'down' : raft?.role ?? (s?.paxos?.role ?? '');
    const ids = view.cluster.map((m) => m.id);
    const peers = !s ? '' : ids.map((id) => {
      const m = (s.members ?? []).find((x) => x.nodeId === id);
      const cls = !m ? 'absent' : m.reachable ? '' : 'unreachable';
      const title = !m ? 'not a member in this node\'s view' : `${m.status}${m.reachable ? '' : ', unreachable'}`;
      return `<span class="peer ${cls}" data-peer="${id}" title="${esc(title)}">${id}${m ? ' ' + esc(m.status) : ''}</span>`;
    }).join('');
    const proc = (launcher.processes ?? []).find((p) => p.id === n.id);
    const why = launcher.available ? '' : esc(launcher.reason);
    const running = proc ? proc.running : n.up;
    return `<div class="node ${n.up ? '' : 'down'}" data-node="${n.id}" data-role="${esc(role)}" data-up="${n.up}">
      <span class="role">${esc(role)}</span>
      <div class="title">node ${n.id}${proc ? ` <small>pid ${proc.pid}</small>` : ''}</div>
      ${n.up ? `<div>${raft ? `term ${raft.term} · leader ${raft.leaderId ?? '?'} · commit ${raft.commitIndex}` : esc(s.selfStatus)}</div>
        <div class="peers" title="membership and reachability in this node's view">sees ${peers}</div>`
      : `<div class="error">down: ${esc(n.error ?? 'no answer')}</div>`}
      <button data-action="isolate" data-node="${n.id}">isolate</button>
      <button data-action="kill" data-node="${n.id}" ${launcher.available && running ? '' : 'disabled'} title="${why || 'kill -9: a crash'}">kill -9</button>
      <button data-action="restart" data-node="${n.id}" ${launcher.available && !running ? '' : 'disabled'} title="${why || 'start it again; it recovers from disk'}">restart</button>
      <button data-action="transfer" data-node="${n.id}" ${n.up && raft && raft.role !== 'Leader' ? '' : 'disabled'}>lead</button>
    </div>`;
  }

  function setHtml(element, html) { if (element.dataset.html !== html) { element.innerHTML = html; element.dataset.html = html; } }

  function renderNarration(steps) {
    const box = $('narration');
    // The newest state of each step of the tour seen in the last minute (a finished tour fades from the page).
    const byStep = new Map();
    for (const s of (steps ?? []).filter((s) => view.atMs - s.atMs < 60000)) byStep.set(`${s.topic}/${s.step}`, s);
    const recent = [...byStep.values()].slice(-4);
    if (!recent.length) { box.hidden = true; return; }
    box.hidden = false;
    box.innerHTML = recent.map((s) => `<div class="${esc(s.state ?? '')}"><b>${esc(s.topic ?? 'tour')}${s.step ? ' · step ' + esc(s.step) : ''}</b> ${esc(s.text)}${s.state && s.state !== 'running' ? ' — ' + esc(s.state) : ''}</div>`).join('');
  }

  function render(v) {
    view = v;
    launcher = v.launcher ?? launcher;
    $('served-by').textContent = `served by ${v.servedBy}; ${v.cluster.filter((n) => n.up).length}/${v.cluster.length} nodes answer`;
    // Replaced only when changed, so a click is never lost to a re-render between mouse down and up.
    setHtml($('nodes'), v.cluster.map(nodeCard).join(''));
    const note = $('launcher-note');
    note.hidden = !!launcher.available;
    note.textContent = launcher.available ? '' : `kill and restart are disabled: ${launcher.reason}`;
    renderNarration(launcher.narration);
    renderPanels(v);
    renderTimeline(v);
    for (const f of viewListeners) { try { f(v); } catch (e) { console.error(e); } }
  }

  // One element per panel, each replaced only when its own content changed: a panel that changes every view (phi,
  // counters) does not replace another one under the pointer.
  function renderPanels(v) {
    const container = $('panels');
    const shown = [];
    for (const p of panels) {
      const rows = v.cluster.filter((n) => n.up && n.status && n.status[p.field] !== null && n.status[p.field] !== undefined)
        .map((n) => ({ id: n.id, value: n.status[p.field], status: n.status }));
      if (rows.length === 0) continue;
      let body;
      try { body = p.render(rows, v); } catch (e) { body = `<p class="bad">cannot show ${esc(p.field)}: ${esc(e.message)}</p>`; }
      let div = [...container.children].find((d) => d.dataset.panel === p.field);
      if (!div) { div = document.createElement('div'); div.className = 'panel'; div.dataset.panel = p.field; container.appendChild(div); }
      setHtml(div, `<h2>${esc(p.title)} <small>/status.${esc(p.field)}</small></h2>${body}`);
      shown.push(div);
    }
    for (const d of [...container.children]) if (!shown.includes(d)) d.remove();
    if (shown.some((d, i) => container.children[i] !== d)) for (const d of shown) container.appendChild(d);
  }

  function renderTimeline(v) {
    const ids = v.cluster.map((n) => n.id);
    const spanMs = 10000, width = 1000, lane = 28, top = 16, height = top + lane * ids.length + 8;
    const now = v.atMs, x = (t) => 60 + (width - 70) * (1 - (now - t) / spanMs), y = (id) => top + lane * ids.indexOf(id);
    const parts = ids.map((id) => `<text x="4" y="${y(id) + 4}" font-size="12">node ${id}</text><line x1="60" x2="${width}" y1="${y(id)}" y2="${y(id)}" stroke="#dde"/>`);
    for (const m of (v.timeline ?? []).filter((m) => now - m.atMs <= spanMs && ids.includes(m.from) && ids.includes(m.to))) {
      const lost = m.outcome === 'dropped' || m.outcome === 'partitioned';
      const color = lost ? '#b3261e' : /Vote|Elect|Prepare|Promise|Timeout/i.test(m.kind) ? '#c77700' : '#3563c9';
      const x1 = x(m.atMs), x2 = x1 + (lost ? 8 : 14);
      parts.push(`<line x1="${x1}" y1="${y(m.from)}" x2="${x2}" y2="${lost ? (y(m.from) + y(m.to)) / 2 : y(m.to)}" stroke="${color}" stroke-width="${m.count > 1 ? 1.5 : 1}" ${lost ? 'stroke-dasharray="2,2"' : ''}><title>${esc(`${m.from}→${m.to} ${m.service}/${m.kind} ${m.outcome}${m.count > 1 ? ` (stands for ${m.count})` : ''}`)}</title></line>`);
    }
    $('timeline').innerHTML = `<svg viewBox="0 0 ${width} ${height}" preserveAspectRatio="none" height="${height}">${parts.join('')}<text x="${width - 4}" y="12" font-size="11" text-anchor="end">now</text><text x="62" y="12" font-size="11">−10 s</text></svg>`;
  }

  function connect() {
    const badge = $('connection');
    const source = new EventSource('/dashboard/events');
    source.onopen = () => { badge.textContent = 'live'; badge.className = 'badge live'; };
    source.onmessage = (e) => { badge.textContent = 'live'; badge.className = 'badge live'; render(JSON.parse(e.data)); };
    source.onerror = () => { badge.textContent = 'connection lost; retrying'; badge.className = 'badge lost'; };
  }

  function wire() {
    $('nodes').addEventListener('click', (e) => {
      const b = e.target.closest('button[data-action]');
      if (!b || b.disabled) return;
      const id = Number(b.dataset.node);
      switch (b.dataset.action) {
        case 'isolate': return isolate(id);
        case 'kill': return control(`kill -9 node ${id}`, 'POST', `/dashboard/nodes/${id}/kill`);
        case 'restart': return control(`restart node ${id}`, 'POST', `/dashboard/nodes/${id}/restart`);
        case 'transfer': return control(`leadership to node ${id}`, 'POST', '/dashboard/transfer', { to: id });
      }
    });
    $('partition-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const spec = $('partition-spec').value.trim();
      control(`partition ${spec}`, 'POST', '/dashboard/faults', { partition: spec });
    });
    $('faults-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const spec = { dropRate: Number($('drop-rate').value), delayMs: [Number($('delay-min').value), Number($('delay-max').value)], duplicateRate: Number($('dup-rate').value) };
      control('faults', 'POST', '/dashboard/faults', spec);
    });
    $('heal').addEventListener('click', () => control('heal', 'DELETE', '/dashboard/faults'));
    $('kv-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const key = $('kv-key').value.trim();
      if (!key) return logEntry('write: give a key', 'failed');
      control(`write ${key}`, 'PUT', `/dashboard/kv/${encodeURIComponent(key)}`, $('kv-value').value);
    });
    $('kv-read').addEventListener('click', () => {
      const key = $('kv-key').value.trim();
      if (!key) return logEntry('read: give a key', 'failed');
      control(`read ${key}`, 'GET', `/dashboard/kv/${encodeURIComponent(key)}?consistency=${$('kv-consistency').value}`);
    });
    $('transfer-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const to = Number($('transfer-to').value);
      control(`leadership to node ${to}`, 'POST', '/dashboard/transfer', to ? { to } : {});
    });
  }

  document.addEventListener('DOMContentLoaded', () => { wire(); connect(); });
  return { panel, esc, num, control, logEntry, onView };
})();
