// The overview: one row per node, built once and then updated in place.
// Stream messages only mark rows dirty; one requestAnimationFrame callback
// repaints the dirty rows, touching a text node or a bar's width only when
// what it shows changed.  At 1000 nodes reporting every second that is a few
// milliseconds a frame (docs/console.md has the figures).
import { api, enc } from './api.js';
import { store } from './store.js';
import { h, clear, fmtNum, fmtDur, memUsedPct, raisedCount, roleAtLeast, debounce, now } from './util.js';
import { nodeAction, ACTIONS, confirmDialog } from './actions.js';

// What the test reads: window.snowPerf.{overviewFirstPaint, overviewBuild, updates[]}.
const perf = (window.snowPerf = window.snowPerf || { updates: [], updateRows: [] });
const collator = new Intl.Collator(undefined, { numeric: true });

const COLS = [
  { key: 'sel', label: '', sort: null },
  { key: 'name', label: 'Node', sort: (n) => n.name },
  { key: 'state', label: 'State', sort: (n) => stateRank(n) },
  { key: 'load', label: 'Load 1m', sort: (n) => v(n, 'vm.load.avg1') },
  { key: 'mem', label: 'Memory used', sort: (n) => memUsedPct(n.values || {}) ?? -1 },
  { key: 'procs', label: 'Procs', sort: (n) => v(n, 'kern.procs.count') },
  { key: 'uptime', label: 'Up', sort: (n) => v(n, 'sys.uptime_s') },
  { key: 'alerts', label: 'Alerts', sort: (n) => raisedCount(n) },
  { key: 'ip', label: 'Address', sort: (n) => n.ip || '' },
  { key: 'image', label: 'Image', sort: (n) => n.image || '' },
];

function v(n, k) { const x = n.values && n.values[k]; return typeof x === 'number' ? x : -1; }

export function stateOf(n) {
  if (n.discovered) return 'discovered';
  if (n.state === 'online' && raisedCount(n)) return 'raised';
  return n.state || 'offline';
}
function stateRank(n) { return { raised: 0, booting: 1, offline: 2, online: 3, discovered: 4 }[stateOf(n)]; }
function stateText(n) {
  const s = stateOf(n);
  if (s === 'booting') return n.stage ? `booting: ${n.stage}` : 'booting';
  if (s === 'raised') return 'online, raised';
  if (s === 'offline' && n.last_seen) return `offline ${fmtDur(now() - n.last_seen)}`;
  return s;
}

// A cell whose text is one text node: cheap to compare and to change.
function tcell(cls) {
  const t = document.createTextNode('');
  return { td: h('td', { class: cls }, t), t };
}
function setT(c, s) { if (c.t.data !== s) c.t.data = s; }

function meterCell(title) {
  const bar = h('div', { class: 'bar' });
  const t = document.createTextNode('');
  const td = h('td', { class: 'meter-cell', title }, h('div', { class: 'meter' }, bar, h('span', {}, t)));
  return { td, bar, t, w: -1, lvl: '' };
}
function setMeter(m, pct, text) {
  const w = pct === undefined ? 0 : Math.round(Math.max(0, Math.min(100, pct)));
  if (w !== m.w) { m.w = w; m.bar.style.width = w + '%'; }
  const lvl = pct === undefined ? '' : pct >= 90 ? 'hi' : pct >= 70 ? 'mid' : 'lo';
  if (lvl !== m.lvl) { m.lvl = lvl; m.bar.className = 'bar ' + lvl; }
  if (m.t.data !== text) m.t.data = text;
}

export function mountOverview(root) {
  const canAct = roleAtLeast(store.me.role, 'operator');
  const isAdmin = roleAtLeast(store.me.role, 'admin');
  const t0 = performance.now();
  const rows = new Map();          // name -> row
  const dirty = new Set();
  const selected = new Set();
  let discovered = [];
  let raf = 0;
  let sortCol = 'name', sortDir = 1;
  let filterText = '', filterState = '';

  const filterIn = h('input', { id: 'filter', type: 'search', placeholder: 'filter: name, address, image, profile, group (* ? globs)', size: 40 });
  const stateSel = h('select', { id: 'state-filter' },
    ['', 'online', 'booting', 'offline', 'raised', 'discovered'].map((s) => h('option', { value: s, text: s || 'any state' })));
  const counts = h('span', { class: 'counts', id: 'counts' });
  const selInfo = h('span', { class: 'sel-info', id: 'sel-info' });
  const bulk = canAct ? h('span', { class: 'bulk', id: 'bulk' },
    Object.entries(ACTIONS).map(([op, a]) => h('button', {
      class: a.danger ? 'danger' : '', dataset: { op }, disabled: true,
      onclick: () => { if (selected.size) nodeAction([...selected].sort(collator.compare), op); },
    }, a.label))) : null;
  const selAll = h('input', { type: 'checkbox', id: 'select-all', title: 'select every node shown' });
  const thead = h('thead', {}, h('tr', {}, COLS.map((c) => c.key === 'sel'
    ? h('th', { class: 'sel' }, selAll)
    : h('th', { class: c.sort ? 'sortable' : '', dataset: { key: c.key }, onclick: () => sortBy(c.key) }, c.label))));
  const tbody = h('tbody', { id: 'node-rows' });
  const table = h('table', { class: 'nodes', id: 'nodes' }, thead, tbody);
  const discBar = h('div', { class: 'discovered', id: 'discovered', hidden: true });
  const empty = h('p', { class: 'muted', id: 'no-nodes', hidden: true, text: 'No node matches.' });

  clear(root).append(
    h('div', { class: 'toolbar' }, filterIn, stateSel, counts),
    canAct ? h('div', { class: 'toolbar selbar' }, selInfo, bulk) : null,
    discBar, table, empty);

  function makeRow(n) {
    const cb = h('input', { type: 'checkbox', class: 'sel' });
    const link = h('a', { href: n.discovered ? '#/inventory/discovered' : '#/node/' + enc(n.name), text: n.discovered ? n.mac : n.name });
    const r = {
      name: n.name, cb,
      tr: h('tr', { dataset: { name: n.name } }),
      state: tcell('state'), load: meterCell('load average, 1 minute'), mem: meterCell('memory in use'),
      procs: tcell('num'), uptime: tcell('num'), alerts: tcell('alerts'), ip: tcell('mono'), image: tcell(''),
      cls: '', visible: true,
    };
    cb.addEventListener('change', () => { cb.checked ? selected.add(n.name) : selected.delete(n.name); selChanged(); });
    r.tr.append(h('td', { class: 'sel' }, canAct && !n.discovered ? cb : null), h('td', { class: 'name' }, link),
      r.state.td, r.load.td, r.mem.td, r.procs.td, r.uptime.td, r.alerts.td, r.ip.td, r.image.td);
    return r;
  }

  function paint(r, n) {
    const st = stateOf(n);
    const cls = 'st-' + st;
    if (r.cls !== cls) { r.cls = cls; r.tr.className = cls; }
    setT(r.state, stateText(n));
    const vals = n.values || {};
    const up = st === 'online' || st === 'raised';
    const load = vals['vm.load.avg1'], cpus = vals['kern.cpu.online'] || vals['kern.cpu.count'] || 1;
    setMeter(r.load, up && typeof load === 'number' ? 100 * load / cpus : undefined, up ? fmtNum(load) : '');
    const mem = memUsedPct(vals);
    setMeter(r.mem, up ? mem : undefined, up && mem !== undefined ? mem.toFixed(0) + '%' : '');
    setT(r.procs, up ? fmtNum(vals['kern.procs.count']) : '');
    setT(r.uptime, up ? fmtDur(vals['sys.uptime_s']) : '');
    const rc = raisedCount(n);
    setT(r.alerts, rc ? `⚠ ${rc} raised` : '');
    setT(r.ip, n.ip || n.mac || '');
    setT(r.image, n.image || n.profile || '');
  }

  function matches(n) {
    if (filterState && stateOf(n) !== filterState && !(filterState === 'online' && stateOf(n) === 'raised')) return false;
    if (!filterText) return true;
    const hay = [n.name, n.hostname, n.ip, n.mac, n.image, n.profile, ...(n.groups || (n.effective && n.effective.groups) || [])].filter(Boolean);
    if (/[*?]/.test(filterText)) {
      const re = new RegExp('^' + filterText.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$', 'i');
      return hay.some((x) => re.test(x));
    }
    const f = filterText.toLowerCase();
    return hay.some((x) => String(x).toLowerCase().includes(f));
  }

  function applyVisible(r, n) {
    const vis = matches(n);
    if (vis !== r.visible) { r.visible = vis; r.tr.hidden = !vis; }
  }

  function allNodes() {
    const list = [...store.nodes.values()];
    for (const d of discovered) list.push(d);
    return list;
  }

  function build() {
    const b0 = performance.now();
    const frag = document.createDocumentFragment();
    const want = new Set();
    for (const n of sorted(allNodes())) {
      want.add(n.name);
      let r = rows.get(n.name);
      if (!r) { r = makeRow(n); rows.set(n.name, r); }
      paint(r, n);
      applyVisible(r, n);
      frag.append(r.tr);
    }
    for (const [name, r] of rows) if (!want.has(name)) { r.tr.remove(); rows.delete(name); selected.delete(name); }
    tbody.append(frag);
    totals();
    return performance.now() - b0;
  }

  function sorted(list) {
    const col = COLS.find((c) => c.key === sortCol);
    return list.sort((a, b) => {
      const x = col.sort(a), y = col.sort(b);
      const c = typeof x === 'string' ? collator.compare(x, y) : x - y;
      return (c || collator.compare(a.name, b.name)) * sortDir;
    });
  }

  function sortBy(key) {
    if (sortCol === key) sortDir = -sortDir; else { sortCol = key; sortDir = 1; }
    for (const th of thead.querySelectorAll('th[data-key]')) {
      th.classList.toggle('sorted', th.dataset.key === sortCol);
      th.classList.toggle('desc', th.dataset.key === sortCol && sortDir < 0);
    }
    build();
  }

  function totals() {
    const c = { online: 0, booting: 0, offline: 0, raised: 0, discovered: 0 };
    let shown = 0;
    for (const n of allNodes()) c[stateOf(n)]++;
    for (const r of rows.values()) if (r.visible) shown++;
    counts.textContent = `${store.nodes.size} nodes: ${c.online + c.raised} online (${c.raised} raised), ${c.booting} booting, ${c.offline} offline` +
      (c.discovered ? `, ${c.discovered} discovered` : '') + (shown !== rows.size ? ` — ${shown} shown` : '');
    empty.hidden = shown > 0;
  }

  function selChanged() {
    selInfo.textContent = selected.size ? `${selected.size} selected` : 'Select nodes to act on them';
    if (bulk) for (const b of bulk.querySelectorAll('button')) b.disabled = !selected.size;
  }

  selAll.addEventListener('change', () => {
    for (const r of rows.values()) {
      if (!r.visible || r.name.startsWith('mac:')) continue;
      r.cb.checked = selAll.checked;
      selAll.checked ? selected.add(r.name) : selected.delete(r.name);
    }
    selChanged();
  });

  function flush() {
    raf = 0;
    const f0 = performance.now();
    const n0 = dirty.size;
    for (const name of dirty) {
      const r = rows.get(name), n = store.nodes.get(name);
      if (r && n) { paint(r, n); applyVisible(r, n); }
    }
    dirty.clear();
    totals();
    perf.updates.push(performance.now() - f0);
    perf.updateRows.push(n0);
    if (perf.updates.length > 1000) { perf.updates.splice(0, 500); perf.updateRows.splice(0, 500); }
  }
  const schedule = () => { if (!raf) raf = requestAnimationFrame(flush); };

  const refilter = () => {
    filterText = filterIn.value.trim();
    filterState = stateSel.value;
    for (const r of rows.values()) {
      const n = store.nodes.get(r.name) || discovered.find((d) => d.name === r.name);
      if (n) applyVisible(r, n);
    }
    totals();
  };
  filterIn.addEventListener('input', debounce(refilter, 120));
  stateSel.addEventListener('change', refilter);

  async function loadDiscovered() {
    try {
      const j = await api('GET', 'discovered');
      const known = new Set([...store.nodes.values()].map((n) => (n.mac || '').toLowerCase()));
      discovered = j.discovered.filter((d) => !known.has(d.mac.toLowerCase()))
        .map((d) => ({ ...d, name: 'mac:' + d.mac, discovered: true, state: 'discovered' }));
    } catch { discovered = []; }
    build();
    discBar.hidden = !discovered.length;
    clear(discBar).append(discovered.length ? [
      `${discovered.length} unknown machine${discovered.length > 1 ? 's' : ''} asked to boot. `,
      isAdmin ? h('a', { href: '#/inventory/discovered' }, 'Adopt them…') : 'An admin can adopt them.'] : []);
  }

  const offs = [
    store.on('values', (names) => { for (const n of names) dirty.add(n); schedule(); }),
    store.on('node', (d) => { dirty.add(d.name); schedule(); }),
    store.on('reset', () => build()),
  ];
  // Offline ages tick without any message.
  const ageTimer = setInterval(() => {
    for (const n of store.nodes.values()) if (n.state === 'offline') dirty.add(n.name);
    schedule();
  }, 5000);

  perf.overviewBuild = build();
  selChanged();
  loadDiscovered();
  requestAnimationFrame(() => {
    // The frame after the rows went in: what the user waited for.
    perf.overviewFirstPaint = performance.now();
    perf.overviewMount = performance.now() - t0;
    perf.overviewRows = rows.size;
  });
  filterIn.focus();

  return () => {
    for (const off of offs) off();
    clearInterval(ageTimer);
    if (raf) cancelAnimationFrame(raf);
  };
}

export { confirmDialog };
