// Panels and controls for transactions, gossip (SWIM and the AP store), elections and the merged logs
// (docs/dashboard.md). Each panel is fed by one /status field and absent when no node reports it; fields are read
// defensively, since protocols add to their /status over time.
'use strict';
(() => {
  const { panel, esc, num, control, logEntry, onView } = Dashboard;
  const $ = (id) => document.getElementById(id);
  const table = (head, rows) => `<table><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>${rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('')}</table>`;
  const list = (v) => (Array.isArray(v) ? v : []);

  panel({
    field: 'txn', title: 'Transactions: in doubt and locks',
    render: (rows) => {
      const summary = table(['node', 'in doubt', 'locks held', 'coordinating'],
        rows.map(({ id, value: t }) => [id, list(t.inDoubt).length ? `<b class="bad">${list(t.inDoubt).length}</b>` : '0', t.locksHeld ?? '–', t.running ?? '–']));
      const doubts = rows.flatMap(({ id, value: t }) => list(t.inDoubt).map((d) => [id, esc(d.id), esc(d.protocol), `<span class="bad">${esc(d.state)}</span>`, num(d.ageMs), esc(list(d.locks).join(', '))]));
      return summary + (doubts.length
        ? '<h3>voted YES, outcome unknown: blocked, holding their locks</h3>' + table(['participant', 'txn', 'protocol', 'state', 'age ms', 'locks'], doubts)
        : '<p class="note">no transaction in doubt</p>');
    },
  });

  const stateCell = (m) => (!m ? '<span class="note">–</span>'
    : `<span class="${m.state === 'alive' ? 'good' : 'bad'}" data-swim="${esc(m.state)}">${esc(m.state)}</span> <small>inc ${esc(m.incarnation)}</small>`);
  panel({
    field: 'gossip', title: 'Gossip: SWIM views',
    render: (rows) => {
      const ids = [...new Set(rows.flatMap(({ value: g }) => list(g.members).map((m) => m.nodeId)))].sort((a, b) => a - b);
      return table(['view of node', ...ids.map((i) => `sees ${i}`), 'rounds', 'messages', 'ping-reqs', 'suspicions', 'refutations'],
        rows.map(({ id, value: g }) => [id, ...ids.map((i) => stateCell(list(g.members).find((m) => m.nodeId === i))),
          g.rounds ?? '–', g.messagesSent ?? '–', g.pingReqsSent ?? '–', g.suspicionsRaised ?? '–', g.refutations ?? '–']));
    },
  });

  panel({
    field: 'apStore', title: 'AP store (anti-entropy)',
    render: (rows) => table(['node', 'keys', 'tombstones', 'exchanges', 'entries sent', 'entries applied', 'HLC'],
      rows.map(({ id, value: a }) => [id, a.keys ?? '–', a.tombstones ?? '–', a.exchangesStarted ?? '–', a.entriesSent ?? '–', a.entriesApplied ?? '–', esc(a.hlc)])),
  });

  const holder = (h) => (h === null || h === undefined ? '–' : esc(typeof h === 'string' ? h : JSON.stringify(h)));
  panel({
    field: 'election', title: 'Leader election: Bully, leases, Akka.Cluster',
    render: (rows) => {
      const nodes = table(['node', 'Bully state', 'Bully coordinator', 'elections started', 'Akka leader', 'singleton on', 'Akka unreachable'],
        rows.map(({ id, value: e }) => [id, e.bully ? esc(e.bully.state) : '<span class="note">off</span>', e.bully?.leaderId ?? (e.bully ? '<span class="bad">none</span>' : '–'),
          e.bully?.electionsStarted ?? '–', e.akka?.leaderId ?? '<span class="bad">none</span>', e.akka?.singletonNodeId ?? '–',
          list(e.akka?.unreachable).length ? `<span class="bad">${esc(list(e.akka.unreachable).join(','))}</span>` : 'none']));
      const leases = rows.flatMap(({ id, value: e }) => list(e.leases).map((l) => [id, esc(l.name), holder(l.leader), l.token ?? '–', num(l.expiresInMs)]));
      return nodes + (leases.length
        ? '<h3>live leases, as each replica applied them</h3>' + table(['replica', 'lease', 'holder', 'fencing token', 'TTL left ms'], leases)
        : '<p class="note">no live lease</p>');
    },
  });

  // The last merged records of the whole cluster, from one node's GET /logs; a click on a trace id shows that trace only.
  const logs = { records: null, error: null, via: null, trace: null, busy: false, field: false };
  const time = (ms) => { const d = new Date(ms); return `${d.toLocaleTimeString()}.${String(d.getMilliseconds()).padStart(3, '0')}`; };
  // An answer is kept only if the filter did not change while it was on the way (a click starts a fresh request).
  async function fetchLogs(now) {
    if ((logs.busy && !now) || !logs.field) return;
    logs.busy = true;
    const trace = logs.trace;
    try {
      const response = await fetch(`/dashboard/logs?limit=${trace ? 40 : 15}${trace ? `&trace=${trace}` : ''}`);
      const answer = await response.json();
      if (trace !== logs.trace) return;
      if (answer.ok) { logs.records = list(answer.records); logs.via = answer.message; logs.error = null; } else logs.error = answer.message;
    } catch (e) { logs.error = `the page's server did not answer (${e.message})`; }
    finally { logs.busy = false; }
  }
  setInterval(fetchLogs, 2000);
  panel({
    field: 'logging', title: 'Logs: the last merged records',
    render: () => {
      const filter = logs.trace
        ? `<p>trace <code>${esc(logs.trace)}</code> only <button type="button" data-trace-clear>show all</button></p>`
        : '<p class="note">newest last, merged by HLC; click a trace id to follow that request</p>';
      if (logs.error) return filter + `<p class="bad">${esc(logs.error)}</p>`;
      if (!logs.records) return filter + '<p class="note">asking…</p>';
      return filter + table(['time (HLC)', 'node', 'severity', 'trace', 'body'], logs.records.map((r) => [
        r.hlc ? time(r.hlc.wallMs) : '–', esc(r.node), r.severityNumber >= 13 ? `<span class="bad">${esc(r.severity)}</span>` : esc(r.severity),
        r.traceId ? `<a href="#" data-trace="${esc(r.traceId)}" title="${esc(r.traceId)}">${esc(r.traceId.slice(0, 8))}…</a>` : '',
        `<span class="log-body">${esc(r.body)}</span>`]));
    },
  });

  function txnOps(fund) {
    const from = $('txn-from').value.trim(), to = $('txn-to').value.trim(), amount = Number($('txn-amount').value);
    if (!from || (!fund && !to)) return null;
    return fund
      ? { protocol: '2pc', ops: [{ op: 'put', key: from, value: String(amount) }] }
      : { protocol: $('txn-protocol').value, ops: [{ op: 'add', key: from, delta: -amount, min: 0 }, { op: 'add', key: to, delta: amount }] };
  }
  const node = (id) => encodeURIComponent($(id).value.trim());

  function wire() {
    // On mouse down, not click: a click whose element is redrawn between press and release would be lost.
    $('panels').addEventListener('mousedown', (e) => {
      const a = e.target.closest('[data-trace], [data-trace-clear]');
      if (!a || e.button !== 0) return;
      logs.trace = a.dataset.trace ?? null;
      logs.records = null;
      fetchLogs(true);
    });
    $('panels').addEventListener('click', (e) => { if (e.target.closest('a[data-trace]')) e.preventDefault(); });
    $('txn-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const body = txnOps(false);
      if (!body) return logEntry('transfer: give both keys', 'failed');
      control(`${body.protocol} transfer`, 'POST', `/dashboard/txn?node=${node('txn-node')}`, body);
    });
    $('txn-fund').addEventListener('click', () => {
      const body = txnOps(true);
      if (!body) return logEntry('set balance: give the "from" key', 'failed');
      control(`set ${body.ops[0].key}=${body.ops[0].value}`, 'POST', `/dashboard/txn?node=${node('txn-node')}`, body);
    });
    $('txn-read').addEventListener('click', () => {
      for (const key of [$('txn-from').value.trim(), $('txn-to').value.trim()].filter((k) => k))
        control(`read ${key}`, 'GET', `/dashboard/txn/kv/${encodeURIComponent(key)}`);
    });
    $('ap-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const key = $('ap-key').value.trim();
      if (!key) return logEntry('AP write: give a key', 'failed');
      control(`AP write ${key}`, 'PUT', `/dashboard/ap/${encodeURIComponent(key)}?node=${node('ap-node')}`, $('ap-value').value);
    });
    $('ap-read').addEventListener('click', () => {
      const key = $('ap-key').value.trim();
      if (!key) return logEntry('AP read: give a key', 'failed');
      control(`AP read ${key}`, 'GET', `/dashboard/ap/${encodeURIComponent(key)}?node=${node('ap-node')}`);
    });
  }

  // The transaction and AP controls show only while a node runs those protocols; the logs are asked for likewise.
  onView((v) => {
    const reports = (field) => v.cluster.some((n) => n.up && n.status && n.status[field] !== null && n.status[field] !== undefined);
    $('txn-form').hidden = !reports('txn');
    $('ap-form').hidden = !reports('apStore');
    const had = logs.field;
    logs.field = reports('logging');
    if (logs.field && !had) fetchLogs();
  });

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', wire); else wire();
})();
