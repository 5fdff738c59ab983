// The console's one copy of the cluster: nodes from GET /api/v1/nodes kept
// current by the SSE stream.  Pages subscribe to what they show; the store
// never touches the DOM.
// The order of the list read and the stream, cuts, unknown and removed nodes
// and events by id: docs/api.md, "Following the cluster" (lib/follow.c is
// the C copy of the same protocol, for snowtop and snow-subagent).
import { api } from './api.js';

const HISTORY_S = 3600;   // plots show the last hour
const MAX_EVENTS = 500;   // the live events kept for the events view
// The values the overview shows (its columns and meters): the main stream
// carries only these of every node; a node page opens a second stream for
// all of its node's values (snowd's ?values= / &full= filter).
const OVERVIEW_VALUES = ['vm.load.avg1', 'kern.cpu.online', 'kern.cpu.count', 'kern.mem.total_kb',
  'kern.mem.avail_kb', 'kern.mem.free_kb', 'kern.procs.count', 'sys.uptime_s', 'hw.temp.cpu'];

class Store {
  constructor() {
    this.me = null;
    this.nodes = new Map();      // name -> node object as the API gives it
    this.events = [];            // newest first, live since the page loaded
    this.history = new Map();    // name -> {t: [], cols: Map(value -> [])}, watched nodes only
    this.listeners = new Map();
    this.connected = false;
    this.es = null;
    this.full = new Map();       // name -> EventSource with all of that node's values
    this.loading = 0;            // list reads under way
    this.held = [];              // node messages that came during them
  }

  on(type, fn) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type).add(fn);
    return () => this.listeners.get(type).delete(fn);
  }

  emit(type, data) {
    for (const fn of this.listeners.get(type) || []) {
      try { fn(data); } catch (e) { console.error('snow: listener for', type, e); }
    }
  }

  async load() {
    // The list cut like the main stream (a tenth of the bytes); the watched
    // nodes come whole.  A node page reads its node whole (reloadNode).
    let q = 'nodes?values=' + OVERVIEW_VALUES.join(',');
    if (this.full.size) q += '&full=' + [...this.full.keys()].map(encodeURIComponent).join(',');
    // Node states the stream brings while the list is read are applied after it, in
    // order: a change the list's answer missed is not lost, an older one is overtaken.
    this.loading++;
    try {
      const j = await api('GET', q);
      const seen = new Set();
      for (const n of j.nodes) {
        seen.add(n.name);
        this.nodes.set(n.name, Object.assign(this.nodes.get(n.name) || {}, n));
      }
      for (const name of this.nodes.keys()) if (!seen.has(name)) this.nodes.delete(name);
    } finally {
      if (--this.loading === 0) {
        const held = this.held;
        this.held = [];
        for (const d of held) this.applyNode(d);
      }
    }
    this.emit('reset');
  }

  applyNode(d) {
    if (d.state === 'removed') {
      if (this.nodes.delete(d.name)) this.emit('reset');
      return;
    }
    const n = this.nodes.get(d.name);
    if (!n) { this.reloadNode(d.name); return; }
    Object.assign(n, d);
    this.emit('node', d);
  }

  async reloadNode(name) {
    try {
      const n = await api('GET', 'nodes/' + encodeURIComponent(name));
      const had = this.nodes.has(name);
      this.nodes.set(name, Object.assign(this.nodes.get(name) || {}, n));
      this.emit(had ? 'node' : 'reset', had ? { name } : undefined);
    } catch (e) {
      if (e.status === 404 && this.nodes.delete(name)) this.emit('reset');
    }
  }

  // Keep the last hour of a node's values (a node page asks): snowd's own
  // history of the node's gauges (30 s averages) first, then every report,
  // from a stream of this node's whole updates.  unwatch() when the page goes.
  watch(name) {
    this.openFull(name);
    if (!this.history.has(name)) {
      const hst = { t: [], cols: new Map(), seq: -1 };
      this.history.set(name, hst);
      api('GET', 'nodes/' + encodeURIComponent(name) + '/history').then((old) => {
        const first = hst.t.length ? hst.t[0] : Infinity;
        const keep = (old.t || []).filter((t) => t < first).length;
        if (!keep) return;
        const live = hst.t.length;
        hst.t.unshift(...old.t.slice(0, keep));
        for (const [k, col] of hst.cols) col.unshift(...((old.values || {})[k] || new Array(keep).fill(null)).slice(0, keep));
        for (const [k, vals] of Object.entries(old.values || {})) {
          if (!hst.cols.has(k)) hst.cols.set(k, vals.slice(0, keep).concat(new Array(live).fill(null)));
        }
        this.emit('node', { name });
      }).catch(() => { /* an older snowd without history: plot from now on */ });
    }
    return this.history.get(name);
  }

  unwatch(name) {
    const es = this.full.get(name);
    if (es) es.close();
    this.full.delete(name);
    // Coming back reads snowd's history again rather than plotting across a gap.
    this.history.delete(name);
  }

  openFull(name) {
    if (this.full.has(name)) return;
    const es = new EventSource('/api/v1/stream?values=&full=' + encodeURIComponent(name));
    this.full.set(name, es);
    // Only the values matter here: node, event and command messages come on the main stream too.
    es.addEventListener('values', (e) => {
      const upd = JSON.parse(e.data)[name];
      const n = this.nodes.get(name);
      if (!upd || !n) return;
      Object.assign(n, upd);
      this.record(name, n);
      this.emit('values', [name]);
    });
  }

  record(name, n) {
    const hst = this.history.get(name);
    if (!hst || n.seq === hst.seq || !n.values) return;
    hst.seq = n.seq;
    const t = n.last_seen || Date.now() / 1000;
    hst.t.push(t);
    const len = hst.t.length;
    for (const [k, v] of Object.entries(n.values)) {
      if (typeof v !== 'number') continue;
      let col = hst.cols.get(k);
      if (!col) { col = new Array(len - 1).fill(null); hst.cols.set(k, col); }
      col.push(v);
    }
    for (const col of hst.cols.values()) if (col.length < len) col.push(null);
    let drop = 0;
    while (drop < len && hst.t[drop] < t - HISTORY_S) drop++;
    if (drop > 0) {
      hst.t.splice(0, drop);
      for (const col of hst.cols.values()) col.splice(0, drop);
    }
  }

  // Open the stream.  @ret a promise settled once it is open (or failed once):
  // read the list after that, so that no change falls between the two.
  connect() {
    if (this.es) return Promise.resolve();
    const es = new EventSource('/api/v1/stream?values=' + OVERVIEW_VALUES.join(','));
    this.es = es;
    let dropped = false, first;
    const opened = new Promise((resolve) => { first = resolve; });
    es.onopen = () => {
      this.connected = true;
      this.emit('status', true);
      first();
      // After a cut, what changed meanwhile is not replayed: read it again.
      if (dropped) this.load().catch(() => {});
    };
    es.onerror = () => {
      dropped = true;
      this.connected = false;
      this.emit('status', false);
      first();
    };
    es.addEventListener('node', (e) => {
      const d = JSON.parse(e.data);
      if (this.loading) this.held.push(d);
      else this.applyNode(d);
    });
    const perf = (window.snowPerf = window.snowPerf || { updates: [], updateRows: [] });
    perf.messages = perf.messages || [];
    perf.messageBytes = 0;
    es.addEventListener('values', (e) => {
      const t0 = performance.now();
      const d = JSON.parse(e.data);
      const names = [];
      for (const [name, upd] of Object.entries(d)) {
        const n = this.nodes.get(name);
        if (!n) continue;
        // A cut update: its values and watermarks merge into what the node
        // has (a node page's stream, or the first GET, brought the others).
        const { values, watermarks, ...rest } = upd;
        Object.assign(n, rest);
        if (values) n.values = Object.assign(n.values || {}, values);
        if (watermarks) n.watermarks = Object.assign(n.watermarks || {}, watermarks);
        names.push(name);
      }
      // What a message costs before any drawing: parse and merge (the test prints it).
      perf.messages.push(performance.now() - t0);
      perf.messageBytes += e.data.length;
      if (perf.messages.length > 1000) perf.messages.splice(0, 500);
      this.emit('values', names);
    });
    es.addEventListener('event', (e) => {
      const d = JSON.parse(e.data);
      this.events.unshift(d);
      if (this.events.length > MAX_EVENTS) this.events.length = MAX_EVENTS;
      // A crash is the node's last one (the API's last_crash: docs/crash.md).
      const n = d.type === 'crash' && this.nodes.get(d.node);
      if (n && (!n.last_crash || d.time >= n.last_crash.time)) {
        n.last_crash = { time: d.time, boot_id: d.boot_id, panic: (d.attrs && d.attrs.panic) || '' };
        this.emit('node', n);
      }
      this.emit('event', d);
    });
    es.addEventListener('command', (e) => this.emit('command', JSON.parse(e.data)));
  }

  disconnect() {
    if (this.es) this.es.close();
    this.es = null;
    for (const name of [...this.full.keys()]) this.unwatch(name);
    this.connected = false;
  }
}

export const store = new Store();
