// Commands to nodes: a confirmation that says what will happen, then a task
// in the corner that follows each command (queued -> sent -> done/failed)
// from the stream, with a slow poll as a safety net for a missed message.
import { api, enc } from './api.js';
import { store } from './store.js';
import { h, clear } from './util.js';

// What each action does, said before it is done.
export const ACTIONS = {
  reboot: { label: 'Reboot', danger: true,
    what: 'The agent answers, then reboots the node cleanly: it goes offline, boots again from the network (script, kernel, overlay) and comes back online.' },
  poweroff: { label: 'Shut down', danger: true,
    what: 'The agent powers the node off from inside. It stays off until it is powered on by its power driver (or by hand).' },
  'power.on': { label: 'Power on',
    what: "snowd's power driver (QMP for virtual nodes, IPMI for real ones) switches the node on; it then boots from the network." },
  'power.off': { label: 'Power off', danger: true,
    what: "snowd's power driver cuts the node's power at once: whatever runs on it is lost, no clean shutdown." },
  'power.cycle': { label: 'Power cycle', danger: true,
    what: "snowd's power driver switches the node off and on again: a hard reset, then a network boot." },
  'config.reload': { label: 'Reload config',
    what: 'The node fetches its overlay again and applies thresholds and variables from it; nothing restarts.' },
};

const dlg = () => document.getElementById('confirm');

// Ask before acting.  @ret a promise of true (go) or false.
export function confirmDialog({ title, lines, ok = 'OK', danger = false, extra = null }) {
  const d = dlg();
  return new Promise((resolve) => {
    const done = (v) => { d.close(); resolve(v); };
    clear(d).append(h('form', { method: 'dialog', class: 'confirm', onsubmit: (e) => { e.preventDefault(); done(true); } },
      h('h3', { text: title }),
      (lines || []).map((l) => (l instanceof Node ? l : h('p', { text: l }))),
      extra,
      h('div', { class: 'buttons' },
        h('button', { type: 'button', class: 'cancel', onclick: () => done(false) }, 'Cancel'),
        h('button', { type: 'submit', class: danger ? 'danger confirm-ok' : 'primary confirm-ok' }, ok))));
    d.oncancel = (e) => { e.preventDefault(); done(false); };
    d.showModal();
    d.querySelector('.confirm-ok').focus();
  });
}

export function namesLine(names) {
  const max = 12;
  return names.length <= max ? names.join(', ') : names.slice(0, max).join(', ') + ` and ${names.length - max} more`;
}

// Confirm a node action for one or many nodes and run it.
export async function nodeAction(names, op, args) {
  const a = ACTIONS[op] || { label: op, what: '' };
  const go = await confirmDialog({
    title: `${a.label}: ${names.length === 1 ? names[0] : names.length + ' nodes'}`,
    lines: [a.what, names.length > 1 ? 'Nodes: ' + namesLine(names) : null].filter(Boolean),
    ok: a.label + (names.length > 1 ? ` ${names.length} nodes` : ''), danger: a.danger,
  });
  if (!go) return null;
  return runCommand(names, op, args || {}, a.label);
}

// --- tasks ------------------------------------------------------------------

const FINAL = new Set(['done', 'failed', 'timed out']);
const tasks = new Set();

class Task {
  constructor(label, names) {
    this.label = label;
    this.cmds = new Map();   // id -> command
    this.errors = [];        // refusals from snowd (never queued)
    this.total = names.length;
    this.single = names.length === 1 ? names[0] : null;
    this.el = h('div', { class: 'task' });
    this.resolve = null;
    this.done = new Promise((r) => { this.resolve = r; });
    document.getElementById('tasks').append(this.el);
    tasks.add(this);
    this.render();
  }
  update(c) {
    if (!this.cmds.has(c.id)) return false;
    this.cmds.set(c.id, Object.assign(this.cmds.get(c.id), c));
    this.render();
    return true;
  }
  finished() {
    let n = this.errors.length;
    for (const c of this.cmds.values()) if (FINAL.has(c.state)) n++;
    return n === this.total;
  }
  render() {
    const counts = { queued: 0, sent: 0, done: 0, failed: 0, 'timed out': 0 };
    for (const c of this.cmds.values()) counts[c.state] = (counts[c.state] || 0) + 1;
    const failed = counts.failed + counts['timed out'] + this.errors.length;
    const pending = this.total - counts.done - failed;
    const fin = this.finished();
    this.el.className = 'task ' + (fin ? (failed ? 'task-failed' : 'task-done') : 'task-running');
    const close = h('button', { class: 'x', title: 'close', onclick: () => this.remove() }, '×');
    let status;
    if (this.single) {
      const c = [...this.cmds.values()][0];
      const err = this.errors[0] || (c && c.error);
      status = [h('b', { text: `${this.label} ${this.single}: ` }),
        h('span', { class: 'cmd-state', text: c ? c.state : (err ? 'refused' : 'sending') }),
        err ? h('div', { class: 'err', text: err }) : null,
        c && c.state === 'done' && c.result !== undefined && c.result !== null && typeof c.result === 'object' && Object.keys(c.result).length
          ? h('div', { class: 'result', text: JSON.stringify(c.result) }) : null];
    } else {
      status = [h('b', { text: `${this.label} on ${this.total} nodes: ` }),
        h('span', { class: 'cmd-state', text: `${counts.done} done, ${failed} failed, ${pending} pending` }),
        this.errors.length ? h('div', { class: 'err', text: this.errors.slice(0, 3).join('; ') }) : null];
    }
    clear(this.el).append(close, ...status.filter(Boolean));
    if (fin) {
      this.resolve(this);
      if (!failed) setTimeout(() => this.remove(), 15000);
    }
  }
  remove() { this.el.remove(); tasks.delete(this); }
}

store.on('command', (c) => { for (const t of tasks) if (t.update(c)) break; });

// Poll what the stream may have missed (a reconnect, a dropped client).
setInterval(async () => {
  for (const t of tasks) {
    if (t.finished()) continue;
    for (const [id, c] of t.cmds) {
      if (FINAL.has(c.state)) continue;
      try { t.update(await api('GET', 'commands/' + id)); } catch { /* next round */ }
    }
  }
}, 4000);

// Send op to every node, eight at a time.  @ret the Task (task.done resolves when all finished).
export function runCommand(names, op, args, label) {
  const t = new Task(label || op, names);
  const queue = names.slice();
  const worker = async () => {
    while (queue.length) {
      const name = queue.shift();
      try {
        const c = await api('POST', `nodes/${enc(name)}/commands`, { op, args });
        t.cmds.set(c.id, c);
      } catch (e) {
        t.errors.push(`${name}: ${e.message}`);
      }
      t.render();
    }
  };
  Promise.all(Array.from({ length: Math.min(8, names.length) }, worker));
  return t;
}
