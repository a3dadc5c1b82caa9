// Protocol panels: each is one self-contained block fed by one /status field (docs/dashboard.md, "Adding a panel").
// A panel whose field no node reports is not shown: a protocol that is not running (or not built yet) has no panel.
'use strict';
(() => {
  const { panel, esc, num } = Dashboard;
  const table = (head, rows) => `<table><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>${rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('')}</table>`;

  panel({
    field: 'raft', title: 'Raft',
    render: (rows) => table(['node', 'role', 'term', 'leader', 'commit', 'applied', 'log', 'voters'],
      rows.map(({ id, value: r }) => [id, r.role === 'Leader' ? `<b class="good">${esc(r.role)}</b>` : esc(r.role), r.term, r.leaderId ?? '<span class="bad">none</span>',
        r.commitIndex, r.lastApplied, `${r.firstLogIndex}..${r.lastLogIndex}${r.snapshotIndex ? ` (snapshot ${r.snapshotIndex})` : ''}`, esc((r.voters ?? []).join(','))])),
  });

  panel({
    field: 'paxos', title: 'Multi-Paxos',
    render: (rows) => table(['node', 'role', 'ballot', 'promised', 'leader', 'first unchosen', 'last decided', 'applied'],
      rows.map(({ id, value: p }) => [id, esc(p.role), esc(p.ballot), esc(p.promised), p.leaderId ?? '–', p.firstUnchosenSlot, p.lastDecidedSlot, p.appliedSlot])),
  });

  panel({
    field: 'replication', title: 'Replication lag',
    render: (rows) => {
      const leader = rows.find((r) => r.value.replicas?.length);
      const own = table(['node', 'applied', 'lag ms', 'leader heard ms ago'],
        rows.map(({ id, value: r }) => [id, r.appliedIndex, num(r.lagMs), num(r.leaderContactAgoMs)]));
      if (!leader) return own;
      return own + `<h3>as leader ${leader.id} sees its followers</h3>` + table(['follower', 'match', 'applied', 'lag entries', 'lag ms', 'link'],
        leader.value.replicas.map((p) => [p.nodeId, p.matchIndex, p.appliedIndex, p.lagEntries ?? '<span class="bad">?</span>', num(p.lagMs), p.linkUp ? '<span class="good">up</span>' : '<span class="bad">down</span>']));
    },
  });

  panel({
    field: 'failureDetector', title: 'Failure detector (phi per peer)',
    render: (rows) => table(['node', 'peer', 'phi', 'last heartbeat ms ago', 'our verdict', 'Akka.Cluster'],
      rows.flatMap(({ id, value: fd }) => (fd.peers ?? []).map((p) => [id, p.nodeId,
        p.phi === null ? '–' : `<span class="${p.phi >= 8 ? 'bad' : ''}">${num(p.phi, 2)}</span>`, num(p.lastHeartbeatAgeMs),
        p.available ? '<span class="good">available</span>' : '<span class="bad">suspected</span>',
        p.akkaReachable ? 'reachable' : '<span class="bad">unreachable</span>']))),
  });

  panel({
    field: 'clock', title: 'Clocks',
    render: (rows) => table(['node', 'injected skew ms', 'offset to ref ms', 'delay ms', 'synced', 'HLC (wall.logical)'],
      rows.map(({ id, value: c }) => [id, c.skewMs, `${num(c.offsetMs, 1)} (to ${c.referenceNodeId})`, num(c.delayMs), c.synced ? 'yes' : '<span class="bad">no</span>',
        c.hlc ? `${c.hlc.wallMs}.${c.hlc.logical}` : '–'])),
  });

  panel({
    field: 'network', title: 'Network faults',
    render: (rows) => table(['node', 'partitions', 'drop', 'delay ms', 'dup', 'sent', 'lost to partition', 'dropped'],
      rows.map(({ id, value: n }) => [id, (n.faults.partitions ?? []).map((g) => g.join(',')).join(' / ') || 'none',
        n.faults.dropRate, (n.faults.delayMs ?? []).join('–'), n.faults.duplicateRate, n.counters.sent, n.counters.droppedByPartition, n.counters.dropped])),
  });
})();
