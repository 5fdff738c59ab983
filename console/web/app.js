// The console's entry: who is logged in, the hash router, the header.
import { api, setCsrf } from './api.js';
import { store } from './store.js';
import { h, clear } from './util.js';
import { mountOverview } from './overview.js';
import { mountNode } from './node.js';
import { mountEvents } from './events.js';
import { mountInventory } from './inventory.js';

const main = document.getElementById('main');
let unmount = null;

function showLogin(msg) {
  store.disconnect();
  store.me = null;
  document.getElementById('nav').hidden = true;
  clear(document.getElementById('who'));
  if (unmount) { unmount(); unmount = null; }
  const err = h('p', { class: 'err', id: 'login-error', text: msg || '' });
  const form = h('form', { class: 'login', id: 'login' },
    h('h2', { text: 'Log in to Snow' }),
    h('label', {}, 'User', h('input', { name: 'user', autocomplete: 'username', required: true, autofocus: true })),
    h('label', {}, 'Password', h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true })),
    h('button', { type: 'submit', class: 'primary' }, 'Log in'), err);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.textContent = '';
    try {
      const me = await api('POST', 'login', { user: form.user.value, password: form.password.value });
      await start(me);
    } catch (ex) {
      err.textContent = ex.status === 401 ? 'Wrong user or password.' : ex.message;
    }
  });
  clear(main).append(form);
}

async function start(me) {
  store.me = me;
  setCsrf(me.csrf);
  document.getElementById('nav').hidden = false;
  clear(document.getElementById('who')).append(
    h('span', { class: 'user', text: `${me.user} (${me.role})` }),
    h('button', { class: 'link', id: 'logout', onclick: logout }, 'Log out'));
  await store.connect();
  await store.load();
  route();
}

async function logout() {
  try { await api('POST', 'logout'); } catch { /* the session is gone either way */ }
  setCsrf('');
  location.hash = '#/';
  showLogin('Logged out.');
}

function route() {
  if (!store.me) return;
  if (unmount) { unmount(); unmount = null; }
  const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  let name = 'overview';
  clear(main);
  if (parts[0] === 'node' && parts[1]) {
    // The list holds a few values of each node: read this one whole first.
    name = 'overview';
    const gone = { now: false };
    main.append(h('p', { class: 'muted', text: `Loading ${parts[1]}…` }));
    unmount = () => { gone.now = true; };
    store.reloadNode(parts[1]).finally(() => {
      if (gone.now) return;
      clear(main);
      unmount = mountNode(main, parts[1], parts[2]);
    });
  }
  else if (parts[0] === 'events') { name = 'events'; unmount = mountEvents(main); }
  else if (parts[0] === 'inventory') { name = 'inventory'; unmount = mountInventory(main, parts[1] || 'discovered'); }
  else unmount = mountOverview(main);
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.route === name);
}

function connStatus(ok) {
  const el = document.getElementById('conn');
  el.className = 'conn ' + (ok ? 'conn-ok' : 'conn-down');
  el.textContent = ok ? 'live' : 'reconnecting…';
}

store.on('status', connStatus);
window.addEventListener('hashchange', route);
window.addEventListener('snow-logged-out', () => showLogin('Your session ended: log in again.'));

api('GET', 'me').then((me) => {
  // A session cookie is there; a token-only "me" (no csrf) cannot change anything from here.
  if (!me.csrf) throw new Error('no session');
  return start(me);
}).catch(() => showLogin(''));
