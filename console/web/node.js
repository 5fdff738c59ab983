// The node page: header and actions, then tabs: plots, values (the agent's
// sysctl-style tree), devices (DDM), thresholds, events, commands, boots,
// console log.  Live from the store; each tab repaints only what changed.
import { api, enc, notAvailable } from './api.js';
import { store } from './store.js';
import { h, clear, fmtNum, fmtDur, fmtTime, now, roleAtLeast, raisedCount, debounce } from './util.js';
import { ACTIONS, nodeAction, confirmDialog, runCommand } from './actions.js';
import { GaugePlot } from './plot.js';
import { stateOf } from './overview.js';

const TABS = ['plots', 'values', 'devices', 'thresholds', 'events', 'commands', 'boots', 'console', 'kernel'];
const KEY_GAUGES = ['vm.load.avg1', 'kern.mem.avail_kb', 'kern.mem.free_kb', 'kern.procs.count', 'kern.files.open', 'hw.temp.cpu'];
const DANGEROUS_DEV_OPS = new Set(['offline', 'disable', 'shutdown', 'diag']);

export function mountNode(root, name, tab0) {
  const canAct = roleAtLeast(store.me.role, 'operator');
  const isAdmin = roleAtLeast(store.me.role, 'admin');
  let tab = TABS.includes(tab0) ? tab0 : 'plots';
  let alive = true;
  const hist = store.watch(name);
  const offs = [];
  let raf = 0;
  let tabPaint = null;   // the current tab's repaint, called once a frame after changes
  let tabUnmount = null;

  const node = () => store.nodes.get(name);
  if (!node()) {
    clear(root).append(h('p', { class: 'err', text: `No node '${name}'.` }), h('a', { href: '#/' }, 'Back to the nodes'));
    return () => store.unwatch(name);
  }
  if (!hist.t.length) store.record(name, node());

  // --- header -----------------------------------------------------------
  const title = h('h2', { class: 'node-title' }, h('a', { href: '#/', class: 'back', title: 'all nodes' }, '←'), ' ', name, ' ');
  const badge = h('span', { class: 'badge', id: 'node-state' });
  title.append(badge);
  const facts = h('dl', { class: 'facts', id: 'node-facts' });
  const actions = h('div', { class: 'actions', id: 'node-actions' });
  if (canAct) {
    for (const [op, a] of Object.entries(ACTIONS)) {
      actions.append(h('button', { class: a.danger ? 'danger' : '', dataset: { op }, onclick: () => nodeAction([name], op) }, a.label));
    }
  }
  if (isAdmin) {
    actions.append(h('button', { dataset: { op: 'reconfigure' }, onclick: () => reconfigure(name) }, 'Reconfigure…'));
    actions.append(h('button', { class: 'danger', dataset: { op: 'remove' }, onclick: () => removeNode(name) }, 'Remove'));
  }
  const tabBar = h('nav', { class: 'tabs' }, TABS.map((t) => h('button', { class: 'tab', dataset: { tab: t }, onclick: () => showTab(t) }, t)));
  const body = h('div', { class: 'tab-body', id: 'tab-body' });
  clear(root).append(h('div', { class: 'node-head' }, title, facts, actions), tabBar, body);

  function paintHead() {
    const n = node();
    if (!n) return;
    const st = stateOf(n);
    badge.className = 'badge st-' + st;
    badge.textContent = st === 'booting' ? `booting: ${n.stage || '?'} (${fmtDur(now() - (n.stage_time || now()))})` : st === 'raised' ? `online, ${raisedCount(n)} raised` : st;
    const f = [
      ['hostname', n.hostname], ['address', n.ip], ['MAC', n.mac], ['image', n.image], ['profile', n.profile],
      ['groups', (n.groups || (n.effective && n.effective.groups) || []).join(', ')],
      ['kernel', n.kernel], ['agent', n.agent_version],
      ['up', n.values && n.values['sys.uptime_s'] !== undefined && (st === 'online' || st === 'raised') ? fmtDur(n.values['sys.uptime_s']) : ''],
      ['online since', n.state === 'online' ? fmtTime(n.online_since) : ''], ['last report', n.last_seen ? fmtTime(n.last_seen) : 'never'],
      ['last crash', n.last_crash ? `${fmtTime(n.last_crash.time)}, boot ${String(n.last_crash.boot_id || '').slice(0, 8)}: ${n.last_crash.panic || '(no panic text)'}` : ''],
    ].filter(([, x]) => x);
    clear(facts).append(...f.flatMap(([k, x]) => [h('dt', { text: k }), h('dd', { text: x })]));
  }

  function schedule() {
    if (!raf) raf = requestAnimationFrame(() => { raf = 0; if (!alive) return; paintHead(); if (tabPaint) tabPaint(); });
  }
  offs.push(store.on('values', (names) => { if (names.includes(name)) schedule(); }));
  offs.push(store.on('node', (d) => { if (d.name === name) schedule(); }));
  offs.push(store.on('reset', schedule));

  function showTab(t) {
    tab = t;
    history.replaceState(null, '', `#/node/${enc(name)}/${t}`);
    for (const b of tabBar.children) b.classList.toggle('active', b.dataset.tab === t);
    if (tabUnmount) tabUnmount();
    tabUnmount = null; tabPaint = null;
    clear(body);
    const m = { plots: tabPlots, values: tabValues, devices: tabDevices, thresholds: tabThresholds,
      events: tabEvents, commands: tabCommands, boots: tabBoots, console: tabConsole, kernel: tabKernel }[t];
    const r = m(body, name) || {};
    tabPaint = r.paint || null;
    tabUnmount = r.unmount || null;
    if (tabPaint) tabPaint();
  }

  // --- plots ------------------------------------------------------------
  function tabPlots(el) {
    const n = node();
    const gauges = (n.schema || []).filter((s) => s.kind === 'gauge');
    const withThr = new Set((n.thresholds || []).map((t) => t.value));
    const chosen = new Set(gauges.map((g) => g.name).filter((g) => KEY_GAUGES.includes(g) || withThr.has(g)).slice(0, 6));
    if (!chosen.size) for (const g of gauges.slice(0, 4)) chosen.add(g.name);
    const grid = h('div', { class: 'plots', id: 'plots' });
    const plots = new Map();
    // Two columns on a wide grid.  A plot's box adds 10 px (padding, border)
    // to its canvas, and the columns are 12 px apart (style.css .plots).
    const width = () => {
      const cw = grid.clientWidth || 900, cols = cw > 900 ? 2 : 1;
      return Math.max(300, Math.floor((cw - 12 * (cols - 1)) / cols) - 10);
    };
    const picker = h('details', { class: 'picker' }, h('summary', {}, 'Gauges to plot'),
      h('div', { class: 'pick-list' }, gauges.map((g) => h('label', {},
        h('input', { type: 'checkbox', checked: chosen.has(g.name), onchange: (e) => { e.target.checked ? chosen.add(g.name) : chosen.delete(g.name); sync(); } }),
        ' ', g.name))));
    const note = h('p', { class: 'muted', text: 'The last hour: snowd\'s 30-second averages, then every report since this page opened the node.' });
    el.append(picker, note, grid);
    function sync() {
      for (const [k, p] of plots) if (!chosen.has(k)) { p.destroy(); plots.delete(k); }
      for (const g of gauges) if (chosen.has(g.name) && !plots.has(g.name)) plots.set(g.name, new GaugePlot(grid, g.name, g.unit, width()));
      paint();
    }
    function paint() { const nn = node(); if (nn) for (const p of plots.values()) p.update(nn, hist); }
    // Follow the grid's own width, not the window's: a scroll bar that appears
    // once the plots make the page taller narrows the grid without a resize event.
    let lastWidth = 0;
    const onResize = debounce(() => {
      const w = width();
      if (w === lastWidth) return;
      lastWidth = w;
      for (const p of plots.values()) p.resize(w);
    }, 100);
    const watch = new ResizeObserver(onResize);
    watch.observe(grid);
    requestAnimationFrame(sync);
    return { paint, unmount: () => { watch.disconnect(); for (const p of plots.values()) p.destroy(); } };
  }

  // --- values: the agent's tree, with search ------------------------------
  function tabValues(el) {
    const n = node();
    const schema = new Map((n.schema || []).map((s) => [s.name, s]));
    for (const k of Object.keys(n.values || {})) if (!schema.has(k)) schema.set(k, { name: k, kind: '' });
    const search = h('input', { type: 'search', id: 'value-search', placeholder: 'search names and descriptions', size: 36 });
    const cells = new Map();  // name -> {val, wm, tr}
    const tbody = h('tbody');
    let lastGroup = '';
    const groupOf = (nm) => nm.split('.').slice(0, -1).join('.');
    const byGroup = (a, b) => groupOf(a.name).localeCompare(groupOf(b.name)) || a.name.localeCompare(b.name);
    for (const s of [...schema.values()].sort(byGroup)) {
      const group = groupOf(s.name);
      if (group !== lastGroup) {
        tbody.append(h('tr', { class: 'group', dataset: { group } }, h('td', { colspan: 7, text: group || '(top)' })));
        lastGroup = group;
      }
      const val = document.createTextNode(''), wm = document.createTextNode('');
      const tr = h('tr', { dataset: { value: s.name } },
        h('td', { class: 'mono', title: s.oid ? 'OID ' + s.oid : '' }, s.name.slice(group ? group.length + 1 : 0)),
        h('td', { class: 'num' }, val), h('td', { text: s.unit || '' }), h('td', { class: 'kind', text: s.kind || '' }),
        h('td', { class: 'num' }, wm), h('td', { class: 'desc', text: s.desc || '' }),
        h('td', {}, canAct && s.kind === 'gauge' ? h('button', { class: 'small', title: 'reset this gauge\'s watermarks',
          onclick: () => runCommand([name], 'watermarks.reset', { value: s.name }, 'Reset watermarks of ' + s.name) }, 'reset wm') : null));
      tbody.append(tr);
      cells.set(s.name, { val, wm, tr, s });
    }
    const sysctl = canAct ? h('form', { class: 'inline-form', id: 'sysctl-form' },
      h('b', {}, 'Set a Linux sysctl: '), h('input', { name: 'name', placeholder: 'vm.swappiness', required: true }), ' = ',
      h('input', { name: 'value', placeholder: 'value', required: true, size: 8 }), h('button', { type: 'submit' }, 'Set'),
      h('span', { class: 'muted', text: ' (only names on the node\'s sysctl.allow list)' })) : null;
    if (sysctl) sysctl.addEventListener('submit', async (e) => {
      e.preventDefault();
      const nm = sysctl.name.value.trim(), v = sysctl.value.value.trim();
      if (await confirmDialog({ title: `sysctl ${nm} = ${v} on ${name}`, lines: [`The agent writes ${v} to /proc/sys/${nm.replace(/\./g, '/')}; it lasts until the next boot.`], ok: 'Set' })) {
        runCommand([name], 'sysctl.set', { name: nm, value: v }, `sysctl ${nm}`);
      }
    });
    el.append(h('div', { class: 'toolbar' }, search, canAct ? h('button', {
      onclick: () => runCommand([name], 'watermarks.reset', {}, 'Reset all watermarks') }, 'Reset all watermarks') : null),
    sysctl, h('table', { class: 'values', id: 'values' },
      h('thead', {}, h('tr', {}, ['name', 'value', 'unit', 'kind', 'watermarks', 'description', ''].map((x) => h('th', { text: x })))), tbody));
    search.addEventListener('input', debounce(() => {
      const q = search.value.trim().toLowerCase();
      const groups = new Set();
      for (const [k, c] of cells) {
        const vis = !q || k.toLowerCase().includes(q) || (c.s.desc || '').toLowerCase().includes(q);
        c.tr.hidden = !vis;
        if (vis) groups.add(k.split('.').slice(0, -1).join('.'));
      }
      for (const g of tbody.querySelectorAll('tr.group')) g.hidden = !groups.has(g.dataset.group);
    }, 100));
    function paint() {
      const nn = node();
      if (!nn) return;
      const vals = nn.values || {}, wms = nn.watermarks || {};
      for (const [k, c] of cells) {
        const x = vals[k];
        const t = typeof x === 'number' ? (Number.isInteger(x) ? String(x) : x.toFixed(2)) : x === undefined ? '' : String(x);
        if (c.val.data !== t) c.val.data = t;
        const w = wms[k];
        const wt = Array.isArray(w) ? `${fmtNum(w[0])} … ${fmtNum(w[1])}` : '';
        if (c.wm.data !== wt) c.wm.data = wt;
      }
    }
    return { paint };
  }

  // --- devices (DDM) ------------------------------------------------------
  function tabDevices(el) {
    const tbody = h('tbody');
    const table = h('table', { class: 'devices', id: 'devices' },
      h('thead', {}, h('tr', {}, ['device', 'class', 'availability', 'run state', 'statistics', 'last diag', 'last audit', 'operations'].map((x) => h('th', { text: x })))), tbody);
    const none = h('p', { class: 'muted', text: 'The node reports no devices.' });
    el.append(table, none);
    let last = null;
    const test = (r) => (r ? `${r.result || '?'}${r.time ? ' ' + fmtTime(r.time) : ''}${r.detail ? ': ' + r.detail : ''}` : '');
    function paint() {
      const devs = node().devices || [];
      const key = JSON.stringify(devs);
      if (key === last) return;
      last = key;
      none.hidden = devs.length > 0;
      table.hidden = !devs.length;
      clear(tbody);
      for (const d of [...devs].sort((a, b) => a.path.localeCompare(b.path))) {
        const depth = d.path.split('/').length - 1;
        tbody.append(h('tr', { dataset: { path: d.path }, class: `run-${d.run} avail-${d.avail}` },
          h('td', { class: 'mono', style: `padding-left:${0.4 + depth}em` }, d.path),
          h('td', { text: d.class || '' }),
          h('td', { class: 'avail', text: d.avail || '' }),
          h('td', { class: 'run', text: d.run || '' }),
          h('td', { class: 'stats', text: d.stats ? Object.entries(d.stats).map(([k, x]) => `${k}=${fmtNum(x)}`).join(' ') : '' }),
          h('td', { text: test(d.diag) }), h('td', { text: test(d.audit) }),
          h('td', { class: 'ops' }, canAct ? (d.ops || []).map((op) => h('button', { class: 'small' + (DANGEROUS_DEV_OPS.has(op) ? ' danger' : ''), dataset: { op },
            onclick: () => deviceOp(d, op) }, op)) : (d.ops || []).join(' '))));
      }
    }
    return { paint };
  }

  async function deviceOp(d, op) {
    const what = {
      offline: `The agent takes ${d.path} offline (for a CPU: /sys/devices/system/cpu/.../online = 0); the node keeps running without it.`,
      online: `The agent brings ${d.path} back online.`,
      disable: `${d.path} becomes disabled: it cannot be brought online until enabled again.`,
      enable: `${d.path} becomes enabled again (its run state does not change).`,
      shutdown: `The agent shuts ${d.path} down.`,
      diag: `The agent runs the intrusive diagnostic of ${d.path} (the device must be offline).`,
      audit: `The agent runs the non-intrusive audit of ${d.path}.`,
    }[op] || `${op} on ${d.path}.`;
    if (await confirmDialog({ title: `${op} ${d.path} on ${name}`, lines: [what], ok: op, danger: DANGEROUS_DEV_OPS.has(op) })) {
      runCommand([name], 'device', { path: d.path, op }, `${op} ${d.path}`);
    }
  }

  // --- thresholds ---------------------------------------------------------
  function tabThresholds(el) {
    const tbody = h('tbody');
    const gauges = (node().schema || []).filter((s) => s.kind === 'gauge').map((s) => s.name).sort();
    const form = canAct ? h('form', { class: 'inline-form', id: 'threshold-form' },
      h('b', {}, 'Set a threshold: '),
      h('select', { name: 'value', required: true }, gauges.map((g) => h('option', { value: g, text: g }))),
      h('select', { name: 'kind' }, h('option', { value: 'high', text: 'high' }), h('option', { value: 'low', text: 'low' })),
      h('label', {}, ' rise ', h('input', { name: 'rise', type: 'number', step: 'any', required: true, size: 8 })),
      h('label', {}, ' clear ', h('input', { name: 'clear', type: 'number', step: 'any', required: true, size: 8 })),
      h('label', {}, ' samples ', h('input', { name: 'samples', type: 'number', min: 1, value: '1', size: 3 })),
      h('button', { type: 'submit' }, 'Set…')) : null;
    if (form) form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const a = { value: form.value.value, kind: form.kind.value, rise: Number(form.rise.value), clear: Number(form.clear.value), samples: Number(form.samples.value) || 1 };
      const cur = node().values && node().values[a.value];
      const dir = a.kind === 'high' ? ['above', 'below'] : ['below', 'above'];
      if (await confirmDialog({ title: `Threshold on ${a.value} (${name})`,
        lines: [`Raised when ${a.value} goes ${dir[0]} ${a.rise} for ${a.samples} sample${a.samples > 1 ? 's' : ''}; cleared when it comes back ${dir[1]} ${a.clear}. Each raise and clear is an event.`,
          cur !== undefined ? `It reads ${fmtNum(cur)} now.` : ''].filter(Boolean), ok: 'Set threshold' })) {
        runCommand([name], 'threshold.set', a, `Threshold ${a.kind} ${a.value}`);
      }
    });
    el.append(form, h('table', { class: 'thresholds', id: 'thresholds' },
      h('thead', {}, h('tr', {}, ['value', 'kind', 'rise', 'clear', 'samples', 'now', 'state', ''].map((x) => h('th', { text: x })))), tbody),
    h('p', { class: 'muted', id: 'no-thresholds', text: 'No threshold is set on this node.' }));
    let last = null;
    function paint() {
      const n = node();
      const thr = n.thresholds || [];
      const key = JSON.stringify(thr) + JSON.stringify(thr.map((t) => n.values && n.values[t.value]));
      if (key === last) return;
      last = key;
      el.querySelector('#no-thresholds').hidden = thr.length > 0;
      clear(tbody).append(...thr.map((t) => h('tr', { class: 'thr-' + t.state, dataset: { value: t.value, kind: t.kind } },
        h('td', { class: 'mono', text: t.value }), h('td', { text: t.kind }), h('td', { class: 'num', text: fmtNum(t.rise) }),
        h('td', { class: 'num', text: fmtNum(t.clear) }), h('td', { class: 'num', text: t.samples ?? '' }),
        h('td', { class: 'num', text: fmtNum(n.values && n.values[t.value]) }),
        h('td', { class: 'thr-state', text: t.state }),
        h('td', {}, canAct ? h('button', { class: 'small', onclick: async () => {
          if (await confirmDialog({ title: `Clear the ${t.kind} threshold on ${t.value}?`, lines: ['It is disabled and forgotten; a raised one raises no clear event.'], ok: 'Clear threshold' })) {
            runCommand([name], 'threshold.clear', { value: t.value, kind: t.kind }, `Clear threshold ${t.value}`);
          }
        } }, 'clear') : null))));
    }
    return { paint };
  }

  // --- events, commands ---------------------------------------------------
  function tabEvents(el) {
    const tbody = h('tbody');
    el.append(h('table', { class: 'events', id: 'node-events' },
      h('thead', {}, h('tr', {}, ['time', 'boot', 'seq', 'type', 'attributes'].map((x) => h('th', { text: x })))), tbody));
    const row = (e) => h('tr', { class: 'ev-' + String(e.type).replace(/\W/g, '-') },
      h('td', { text: fmtTime(e.time) }), h('td', { class: 'mono', text: String(e.boot_id || '').slice(0, 8) }),
      h('td', { class: 'num', text: e.seq }), h('td', { text: e.type }),
      h('td', { class: 'mono', text: JSON.stringify(e.attrs || {}) }));
    api('GET', `events?node=${enc(name)}&limit=200`).then((j) => { if (alive) tbody.append(...j.events.map(row)); })
      .catch((e) => tbody.append(h('tr', {}, h('td', { colspan: 5, class: 'err', text: e.message }))));
    const off = store.on('event', (e) => { if (e.node === name) tbody.prepend(row(e)); });
    return { unmount: off };
  }

  function tabCommands(el) {
    const tbody = h('tbody');
    const rows = new Map();
    el.append(h('table', { class: 'commands', id: 'node-commands' },
      h('thead', {}, h('tr', {}, ['id', 'op', 'args', 'state', 'result'].map((x) => h('th', { text: x })))), tbody));
    const put = (c, top) => {
      const tr = h('tr', { class: 'cmd-' + String(c.state).replace(/\W/g, '-'), dataset: { id: c.id } },
        h('td', { class: 'num', text: c.id }), h('td', { text: c.op }), h('td', { class: 'mono', text: JSON.stringify(c.args || {}) }),
        h('td', { text: c.state }), h('td', { class: c.error ? 'err' : 'mono', text: c.error || (c.result !== undefined ? JSON.stringify(c.result) : '') }));
      const old = rows.get(c.id);
      if (old) old.replaceWith(tr); else if (top) tbody.prepend(tr); else tbody.append(tr);
      rows.set(c.id, tr);
    };
    api('GET', `nodes/${enc(name)}/commands`).then((j) => { for (const c of j.commands) put(c, false); })
      .catch((e) => tbody.append(h('tr', {}, h('td', { colspan: 5, class: 'err', text: e.message }))));
    const off = store.on('command', (c) => { if (c.node === name) put(c, true); });
    return { unmount: off };
  }

  // --- boots and console log: routes snowd is still getting ----------------
  function tabBoots(el) {
    const n = node();
    el.append(h('p', {}, `Now: ${n.state}${n.stage ? ', stage ' + n.stage + ' since ' + fmtTime(n.stage_time) : ''}.`));
    const box = h('div', { id: 'boots' }, h('p', { class: 'muted', text: 'Loading…' }));
    el.append(box);
    api('GET', `nodes/${enc(name)}/boots`).then((j) => {
      const boots = j.boots || [];
      // snowd gives milliseconds since the epoch; stages is {stage: time}.
      const sec = (x) => (x > 1e11 ? x / 1000 : x);
      clear(box).append(boots.length ? h('table', { class: 'boots', id: 'boot-table' },
        h('thead', {}, h('tr', {}, ['boot', 'started', 'stages (seconds after the start)', 'online after'].map((x) => h('th', { text: x })))),
        h('tbody', {}, boots.map((b) => {
          const t0 = sec(b.started || 0);
          const stages = Object.entries(b.stages || {}).map(([k, x]) => [k, sec(x)]).sort((x, y) => x[1] - y[1]);
          return h('tr', {}, h('td', { class: 'mono', text: String(b.boot_id || '').slice(0, 8) }),
            h('td', { text: fmtTime(t0) }),
            h('td', { text: stages.map(([k, x]) => `${k} +${(x - t0).toFixed(1)}`).join(' → ') }),
            h('td', { class: 'num', text: b.online ? `${(sec(b.online) - t0).toFixed(1)} s` : '' }));
        }))) : h('p', { class: 'muted', text: 'No boot recorded.' }));
    }).catch((e) => clear(box).append(h('p', { class: 'muted na', text: notAvailable(e) ? 'Boot history: not available (this snowd does not keep it yet).' : e.message })));
  }

  function tabConsole(el) {
    const pre = h('pre', { class: 'console', id: 'console-log', text: 'Loading…' });
    el.append(pre);
    fetch(`/api/v1/nodes/${enc(name)}/console`, { credentials: 'same-origin' }).then(async (r) => {
      if (!r.ok) { pre.className = 'muted na'; pre.textContent = r.status === 404 ? 'Console log: not available (not captured for this node, or this snowd does not capture consoles yet).' : `${r.status} ${r.statusText}`; return; }
      const ct = r.headers.get('content-type') || '';
      pre.textContent = ct.includes('json') ? ((await r.json()).log || '') : await r.text();
      pre.scrollTop = pre.scrollHeight;
    }).catch((e) => { pre.textContent = e.message; });
  }

  // --- kernel log: what netconsole brought, one boot at a time (docs/crash.md) --
  function tabKernel(el) {
    const pick = h('select', { id: 'kernel-boot' }, h('option', { value: 'current', text: 'current boot' }));
    const pre = h('pre', { class: 'console', id: 'kernel-log', text: 'Loading…' });
    // The pstore dump the node sent of a crashed boot after its reset, when there is one.
    const dump = h('pre', { class: 'console', id: 'kernel-pstore', hidden: true });
    const dumpHead = h('h3', { text: 'pstore dump (sent after the reset)', hidden: true });
    el.append(h('p', {}, 'Boot: ', pick), pre, dumpHead, dump);
    const show = () => {
      pre.className = 'console';
      pre.textContent = 'Loading…';
      dump.hidden = dumpHead.hidden = true;
      api('GET', `nodes/${enc(name)}/boots/${enc(pick.value)}/kernel-log`).then((j) => {
        pre.textContent = (j.truncated ? '(older lines of this boot were rotated out)\n' : '') + (j.log || '');
        pre.scrollTop = pre.scrollHeight;
      }).catch((e) => { pre.className = 'muted na'; pre.textContent = notAvailable(e) ? 'Kernel log: none kept for this boot (netconsole sends it from the service NIC on).' : e.message; });
      if (pick.value !== 'current') {
        const asked = pick.value;
        api('GET', `nodes/${enc(name)}/boots/${enc(asked)}/pstore`).then((j) => {
          if (pick.value !== asked) return;
          dump.textContent = (j.records || []).map((r) => `--- ${r.name} (${r.bytes} bytes)\n${r.text !== undefined ? r.text : `(${r.note || 'not text'})`}`).join('\n');
          dump.hidden = dumpHead.hidden = false;
        }).catch(() => {});
      }
    };
    pick.onchange = show;
    api('GET', `nodes/${enc(name)}/boots`).then((j) => {
      for (const b of j.boots || []) if (b.boot_id) pick.append(h('option', { value: b.boot_id, text: `${String(b.boot_id).slice(0, 8)} (${fmtTime(b.started > 1e11 ? b.started / 1000 : b.started)})` }));
      // A boot that crashed before its agent started is in no boot list: offer it too.
      const lc = node() && node().last_crash;
      if (lc && lc.boot_id && ![...pick.options].some((o) => o.value === lc.boot_id)) pick.append(h('option', { value: lc.boot_id, text: `${String(lc.boot_id).slice(0, 14)} (crashed ${fmtTime(lc.time)})` }));
    }).catch(() => {});
    show();
  }

  showTab(tab);
  paintHead();
  const headTimer = setInterval(schedule, 1000);  // stage durations and ages tick
  return () => {
    alive = false;
    store.unwatch(name);
    for (const off of offs) off();
    clearInterval(headTimer);
    if (raf) cancelAnimationFrame(raf);
    if (tabUnmount) tabUnmount();
  };
}

// PATCH /api/v1/nodes/NAME {profile, settings: {image, cmdline, env}, reboot}:
// stored in the inventory, applied at the node's next boot.
async function reconfigure(name) {
  let n = store.nodes.get(name) || {};
  try { n = await api('GET', `nodes/${enc(name)}`); } catch { /* the list's copy will do */ }
  const own = n.settings || {}, eff = n.effective || {};
  const [images, profiles] = await Promise.all([
    api('GET', 'images').then((j) => j.images || []).catch(() => null),
    api('GET', 'profiles').then((j) => j.profiles || []).catch(() => null)]);
  const pick = (nm, list, cur, none) => (list && list.length
    ? h('select', { name: nm }, h('option', { value: '', text: none }),
      list.map((x) => { const v = typeof x === 'string' ? x : x.name; return h('option', { value: v, text: v, selected: v === cur }); }))
    : h('input', { name: nm, value: cur || '', size: 24 }));
  const envText = Object.entries(own.env || {}).map(([k, x]) => `${k}=${x}`).join('\n');
  const f = h('div', { class: 'reconf', id: 'reconf' },
    h('label', {}, `Image (now ${eff.image || n.image || '?'})`, pick('image', images, own.image, '(inherit)')),
    h('label', {}, 'Profile', pick('profile', profiles, n.profile, '(none)')),
    h('label', {}, `Kernel arguments (now "${eff.cmdline || ''}")`, h('input', { name: 'cmdline', size: 40, value: own.cmdline || '' })),
    h('label', {}, 'Variables, NAME=value one a line (the node\'s environment)', h('textarea', { name: 'env', rows: 4, cols: 40, value: envText })),
    h('label', { class: 'check' }, h('input', { name: 'reboot', type: 'checkbox' }), ' reboot now so it takes effect'));
  const ok = await confirmDialog({ title: `Reconfigure ${name}`,
    lines: ['What you set here is the node\'s own setting (empty: inherit from its profile, else the default). It is stored at once and takes effect at the node\'s next boot: its boot script and overlay are rendered from it.'],
    extra: f, ok: 'Apply' });
  if (!ok) return;
  const val = (k) => f.querySelector(`[name=${k}]`).value.trim();
  const settings = {};
  const img = val('image'), cl = val('cmdline');
  if (img !== (own.image || '')) settings.image = img || null;
  if (cl !== (own.cmdline || '')) settings.cmdline = cl || null;
  const env = {};
  for (const line of val('env').split('\n')) { const m = line.match(/^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$/); if (m) env[m[1]] = m[2].trim(); }
  if (JSON.stringify(env) !== JSON.stringify(own.env || {})) settings.env = Object.keys(env).length ? env : null;
  const body = { settings };
  const prof = val('profile');
  if (prof !== (n.profile || '')) body.profile = prof || null;
  const reboot = f.querySelector('[name=reboot]').checked;
  try {
    await api('PATCH', `nodes/${enc(name)}`, body);
    await store.reloadNode(name);
    const what = [...Object.keys(settings), ...('profile' in body ? ['profile'] : [])];
    if (reboot) runCommand([name], 'reboot', {}, 'Reboot');
    else await confirmDialog({ title: 'Reconfigured', lines: [`${name}: ${what.join(', ') || 'nothing'} changed; its next boot uses it.`], ok: 'OK' });
  } catch (e) {
    await confirmDialog({ title: 'Reconfigure failed', lines: [notAvailable(e) ? 'Not available: this snowd cannot reconfigure nodes (PATCH /api/v1/nodes/NAME).' : e.message], ok: 'OK' });
  }
}

async function removeNode(name) {
  if (!(await confirmDialog({ title: `Remove ${name} from the inventory?`, lines: ['Its DHCP entry goes; if it boots again it shows up as discovered. Its events stay in the database.'], ok: 'Remove', danger: true }))) return;
  try {
    await api('DELETE', `nodes/${enc(name)}`);
    await store.load();
    location.hash = '#/';
  } catch (e) {
    await confirmDialog({ title: 'Remove failed', lines: [e.message], ok: 'OK' });
  }
}
