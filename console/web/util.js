// Small DOM and formatting helpers.  Every node-provided string reaches the
// page through textContent or attributes set by property, never innerHTML,
// so a hostname like "<img onerror=...>" stays text.

// h('tr', {class: 'x', onclick: fn, dataset: {name}}, child, 'text', ...)
export function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = v;
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (k === 'style') el.style.cssText = v;
      else if (k === 'value') el.value = v;
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else if (k in el && typeof v !== 'string') el[k] = v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, kids);
  return el;
}

function append(el, kids) {
  for (const k of kids) {
    if (k === null || k === undefined || k === false) continue;
    if (Array.isArray(k)) append(el, k);
    else el.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
}

export function clear(el) { el.replaceChildren(); return el; }

export function fmtNum(v) {
  if (typeof v !== 'number' || !isFinite(v)) return v === undefined ? '' : String(v);
  const a = Math.abs(v);
  if (a >= 1e9) return (v / 1e9).toFixed(1) + 'G';
  if (a >= 1e6) return (v / 1e6).toFixed(1) + 'M';
  if (a >= 1e4) return (v / 1e3).toFixed(0) + 'k';
  if (Number.isInteger(v)) return String(v);
  if (a < 0.1) return String(Number(v.toPrecision(2)));
  return v.toFixed(a < 10 ? 2 : 1);
}

export function fmtDur(s) {
  if (!(s >= 0)) return '';
  s = Math.floor(s);
  if (s < 60) return s + 's';
  if (s < 3600) return Math.floor(s / 60) + 'm' + String(s % 60).padStart(2, '0');
  if (s < 86400) return Math.floor(s / 3600) + 'h' + String(Math.floor(s / 60) % 60).padStart(2, '0');
  return Math.floor(s / 86400) + 'd' + String(Math.floor(s / 3600) % 24).padStart(2, '0') + 'h';
}

export function fmtTime(t) {
  if (!t) return '';
  const d = new Date(t * 1000);
  return d.toLocaleString(undefined, { hour12: false });
}

export const now = () => Date.now() / 1000;

// Roles in order: what a role may do includes what the lower ones may.
const RANK = { viewer: 1, operator: 2, admin: 3 };
export function roleAtLeast(role, need) { return (RANK[role] || 0) >= RANK[need]; }

// The node's key gauges shown in lists (the same as snowtop's meters).
export function memUsedPct(v) {
  const tot = v['kern.mem.total_kb'], av = v['kern.mem.avail_kb'] ?? v['kern.mem.free_kb'];
  if (!(tot > 0) || typeof av !== 'number') return undefined;
  return Math.max(0, Math.min(100, 100 * (1 - av / tot)));
}

export function raisedCount(n) {
  let c = 0;
  for (const t of n.thresholds || []) if (t.state === 'raised') c++;
  return c;
}

export function debounce(fn, ms) {
  let t;
  return (...a) => { clearTimeout(t); t = setTimeout(() => fn(...a), ms); };
}
