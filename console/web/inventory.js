// Inventory pages: discovered machines to adopt, profiles, images, users and
// API tokens.  Profiles and images come from routes snowd is still getting:
// a 404 shows "not available" rather than an error.
import { api, enc, notAvailable } from './api.js';
import { store } from './store.js';
import { h, clear, fmtTime, roleAtLeast } from './util.js';
import { confirmDialog } from './actions.js';

const PAGES = [
  ['discovered', 'Discovered'], ['profiles', 'Profiles'], ['images', 'Images'],
  ['users', 'Users', 'admin'], ['tokens', 'API tokens', 'admin'],
];

export function mountInventory(root, page) {
  const isAdmin = roleAtLeast(store.me.role, 'admin');
  const body = h('div', { id: 'inv-body' });
  clear(root).append(h('nav', { class: 'tabs' }, PAGES.filter((p) => !p[2] || isAdmin).map(([k, label]) =>
    h('a', { class: 'tab' + (k === page ? ' active' : ''), href: '#/inventory/' + k, text: label }))), body);
  const fn = { discovered, profiles: (b) => listPage(b, 'profiles'), images: (b) => listPage(b, 'images'), users, tokens }[page];
  if (!fn || (PAGES.find((p) => p[0] === page)[2] && !isAdmin)) {
    body.append(h('p', { class: 'err', text: 'Only an admin sees this page.' }));
    return () => {};
  }
  fn(body, isAdmin);
  return () => {};
}

function table(cols, rows) {
  return h('table', { class: 'inv' }, h('thead', {}, h('tr', {}, cols.map((c) => h('th', { text: c })))),
    h('tbody', {}, rows));
}

function failure(body, e, what) {
  body.append(h('p', { class: notAvailable(e) ? 'muted na' : 'err',
    text: notAvailable(e) ? `${what}: not available (this snowd has no such route yet).` : e.message }));
}

async function discovered(body, isAdmin) {
  body.append(h('h2', { text: 'Discovered machines' }),
    h('p', { class: 'muted', text: 'MAC addresses that asked to boot and are not in the inventory. Adopting one adds it as a node; it boots at its next try.' }));
  let j;
  try { j = await api('GET', 'discovered'); } catch (e) { failure(body, e, 'Discovered machines'); return; }
  const known = new Set([...store.nodes.values()].map((n) => (n.mac || '').toLowerCase()));
  const list = j.discovered.filter((d) => !known.has(d.mac.toLowerCase()));
  if (!list.length) { body.append(h('p', { text: 'None.' })); return; }
  let next = store.nodes.size + 1;
  body.append(table(['MAC', 'address', 'first seen', 'last seen', 'requests', isAdmin ? 'adopt as' : ''], list.map((d) => {
    const nameIn = h('input', { value: `node${next++}`, size: 12, pattern: '[a-z][a-z0-9-]*' });
    const ipIn = h('input', { placeholder: 'IP (optional)', size: 13 });
    const msg = h('span', { class: 'err' });
    return h('tr', { dataset: { mac: d.mac } }, h('td', { class: 'mono', text: d.mac }), h('td', { text: d.ip || '' }),
      h('td', { text: fmtTime(d.first_seen) }), h('td', { text: fmtTime(d.last_seen) }), h('td', { class: 'num', text: d.count }),
      h('td', {}, isAdmin ? [nameIn, ipIn, h('button', { onclick: async () => {
        const body2 = { name: nameIn.value.trim(), mac: d.mac };
        if (ipIn.value.trim()) body2.ip = ipIn.value.trim();
        if (!(await confirmDialog({ title: `Adopt ${d.mac} as ${body2.name}?`, lines: ['The node gets a fixed address and a DHCP entry; at its next boot attempt it boots the default image.'], ok: 'Adopt' }))) return;
        try { await api('POST', 'nodes', body2); msg.textContent = ''; await store.load(); location.hash = '#/node/' + enc(body2.name); } catch (e) { msg.textContent = e.message; }
      } }, 'Adopt'), msg] : null));
  })));
}

// Profiles and images: whatever fields snowd gives, as a table.
async function listPage(body, what) {
  body.append(h('h2', { text: what[0].toUpperCase() + what.slice(1) }));
  let j;
  try { j = await api('GET', what); } catch (e) { failure(body, e, what[0].toUpperCase() + what.slice(1)); return; }
  const list = j[what] || [];
  if (!list.length) { body.append(h('p', { text: 'None.' })); return; }
  const cols = [...new Set(list.flatMap((x) => Object.keys(x)))];
  const cell = (x) => (x === null || x === undefined ? '' : typeof x === 'object' ? JSON.stringify(x) : typeof x === 'number' && x > 1e9 && x < 1e10 ? fmtTime(x) : String(x));
  body.append(table(cols, list.map((x) => h('tr', {}, cols.map((c) => h('td', { text: cell(x[c]) }))))));
}

async function users(body) {
  body.append(h('h2', { text: 'Users' }));
  const box = h('div');
  const form = h('form', { class: 'inline-form', id: 'user-form' },
    h('b', {}, 'Add a user: '), h('input', { name: 'name', placeholder: 'name', required: true, size: 12 }),
    h('input', { name: 'password', type: 'password', placeholder: 'password (8+)', required: true, autocomplete: 'new-password' }),
    h('select', { name: 'role' }, ['viewer', 'operator', 'admin'].map((r) => h('option', { value: r, text: r }))),
    h('button', { type: 'submit' }, 'Add'), h('span', { class: 'err' }));
  body.append(form, box);
  const load = async () => {
    try {
      const j = await api('GET', 'users');
      clear(box).append(table(['name', 'role', 'created', ''], j.users.map((u) => h('tr', { dataset: { user: u.name } },
        h('td', { text: u.name }), h('td', { text: u.role }), h('td', { text: fmtTime(u.created) }),
        h('td', {}, u.name === store.me.user ? '(you)' : h('button', { class: 'small danger', onclick: async () => {
          if (!(await confirmDialog({ title: `Remove user ${u.name}?`, lines: ['Their sessions end at once.'], ok: 'Remove', danger: true }))) return;
          try { await api('DELETE', 'users/' + enc(u.name)); load(); } catch (e) { form.lastChild.textContent = e.message; }
        } }, 'remove'))))));
    } catch (e) { failure(box, e, 'Users'); }
  };
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await api('POST', 'users', { name: form.name.value.trim(), password: form.password.value, role: form.role.value });
      form.reset(); form.lastChild.textContent = ''; load();
    } catch (ex) { form.lastChild.textContent = ex.message; }
  });
  load();
}

async function tokens(body) {
  body.append(h('h2', { text: 'API tokens' }), h('p', { class: 'muted', text: 'For snowctl, snowtop and scripts (SNOW_TOKEN). A token is shown once, when it is made.' }));
  const box = h('div');
  const shown = h('p', { class: 'token-once', id: 'token-once', hidden: true });
  const form = h('form', { class: 'inline-form', id: 'token-form' },
    h('b', {}, 'New token: '), h('input', { name: 'name', placeholder: 'name', required: true, size: 14 }),
    h('select', { name: 'role' }, ['viewer', 'operator', 'admin'].map((r) => h('option', { value: r, text: r }))),
    h('button', { type: 'submit' }, 'Create'), h('span', { class: 'err' }));
  body.append(form, shown, box);
  const load = async () => {
    try {
      const j = await api('GET', 'tokens');
      clear(box).append(table(['name', 'role', 'created', ''], j.tokens.map((t) => h('tr', {},
        h('td', { text: t.name }), h('td', { text: t.role }), h('td', { text: fmtTime(t.created) }),
        h('td', {}, h('button', { class: 'small danger', onclick: async () => {
          if (!(await confirmDialog({ title: `Revoke token ${t.name}?`, lines: ['Whatever uses it is refused from now on.'], ok: 'Revoke', danger: true }))) return;
          try { await api('DELETE', 'tokens/' + enc(t.name)); load(); } catch (e) { form.lastChild.textContent = e.message; }
        } }, 'revoke'))))));
    } catch (e) { failure(box, e, 'Tokens'); }
  };
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const t = await api('POST', 'tokens', { name: form.name.value.trim(), role: form.role.value });
      clear(shown).append(`Token ${t.name} (${t.role}): `, h('code', { text: t.token }), ' — copy it now, it is not shown again.');
      shown.hidden = false; form.reset(); form.lastChild.textContent = ''; load();
    } catch (ex) { form.lastChild.textContent = ex.message; }
  });
  load();
}
