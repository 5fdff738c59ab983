// The events view: the latest events from GET /api/v1/events, then live from
// the stream; filter by node and type; older pages with "before".
import { api, enc } from './api.js';
import { store } from './store.js';
import { h, clear, fmtTime, debounce } from './util.js';

const MAX_ROWS = 2000;

export function mountEvents(root) {
  const nodeIn = h('input', { type: 'search', id: 'ev-node', placeholder: 'node', size: 14 });
  const typeIn = h('input', { type: 'search', id: 'ev-type', placeholder: 'type (threshold, device, boot…)', size: 24 });
  const pause = h('label', {}, h('input', { type: 'checkbox', id: 'ev-pause' }), ' pause');
  const tbody = h('tbody', { id: 'event-rows' });
  const more = h('button', { id: 'ev-more' }, 'Older…');
  const status = h('span', { class: 'muted' });
  let oldest = 0;
  let held = [];

  clear(root).append(h('h2', { text: 'Events' }),
    h('div', { class: 'toolbar' }, nodeIn, typeIn, pause, status),
    h('table', { class: 'events', id: 'events' },
      h('thead', {}, h('tr', {}, ['time', 'node', 'seq', 'type', 'attributes'].map((x) => h('th', { text: x })))), tbody),
    more);

  const match = (e) => (!nodeIn.value || String(e.node).includes(nodeIn.value.trim())) &&
    (!typeIn.value || String(e.type).includes(typeIn.value.trim()));
  const row = (e) => {
    const tr = h('tr', { class: 'ev-' + String(e.type).replace(/\W/g, '-'), dataset: { node: e.node, type: e.type } },
      h('td', { text: fmtTime(e.time) }),
      h('td', {}, h('a', { href: '#/node/' + enc(e.node), text: e.node })),
      h('td', { class: 'num', text: e.seq }), h('td', { text: e.type }),
      h('td', { class: 'mono', text: JSON.stringify(e.attrs || {}) }));
    tr.hidden = !match(e);
    tr._ev = e;
    return tr;
  };

  async function load(before) {
    const q = `events?limit=200${before ? '&before=' + before : ''}${nodeIn.value.trim() ? '&node=' + enc(nodeIn.value.trim()) : ''}`;
    try {
      const j = await api('GET', q);
      tbody.append(...j.events.map(row));
      for (const e of j.events) if (e.id && (!oldest || e.id < oldest)) oldest = e.id;
      more.hidden = j.events.length < 200 || !oldest;
      status.textContent = '';
    } catch (e) {
      status.textContent = e.status === 404 ? 'no such node' : e.message;
    }
  }
  more.addEventListener('click', () => load(oldest));
  const refilter = debounce(() => {
    // A node name asks snowd (older events of that node); a type filters what is here.
    clear(tbody); oldest = 0; load(0);
  }, 250);
  nodeIn.addEventListener('input', refilter);
  typeIn.addEventListener('input', debounce(() => { for (const tr of tbody.children) tr.hidden = !match(tr._ev); }, 100));
  pause.querySelector('input').addEventListener('change', (e) => {
    if (!e.target.checked) { for (const ev of held) tbody.prepend(row(ev)); held = []; }
  });

  const off = store.on('event', (e) => {
    if (pause.querySelector('input').checked) { held.push(e); status.textContent = `${held.length} new (paused)`; return; }
    tbody.prepend(row(e));
    while (tbody.children.length > MAX_ROWS) tbody.lastChild.remove();
  });
  load(0);
  return off;
}
