// Browser tests of the web console in Debian's headless chromium or firefox-esr,
// driven by playwright-core (which never downloads a browser here; Firefox is
// driven over WebDriver BiDi, which stock Firefox speaks).
//   SNOW_BROWSER=chromium (default) or firefox picks the browser; in Firefox every
//   test line and screenshot name carries "firefox".
//   node browser.mjs sim  URL SHOTDIR NODE   1000 simulated nodes: login, overview,
//                                            its cost, filter, node page, threshold,
//                                            device offline/online, bulk action, viewer
//   node browser.mjs qemu URL SHOTDIR NODE   one QEMU node: plots move, threshold,
//                                            cpu1 offline and back, reboot -> online
// Users: adm/admin-pass-1, view/viewer-pass-1 (the shell test makes them).
// Prints TAP-like "ok - ..." / "not ok - ..." lines (tests/run.sh counts them)
// and "perf: ..." lines with the figures.
import { chromium, firefox } from 'playwright-core';

const [scenario, url, shots, nodeName] = process.argv.slice(2);
let failures = 0;
const which = process.env.SNOW_BROWSER || 'chromium';
const tag = which === 'chromium' ? '' : `[${which}] `;
const ok = (d) => console.log(`ok - ${tag}${d}`);
const notOk = (d, e) => { failures++; console.log(`not ok - ${tag}${d}${e ? ': ' + String(e.message || e).split('\n')[0] : ''}`); };
async function check(desc, fn) {
  try { await fn(); ok(desc); return true; } catch (e) { notOk(desc, e); return false; }
}
const assert = (c, msg) => { if (!c) throw new Error(msg); };

async function launch() {
  if (which === 'chromium') {
    return chromium.launch({
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
    });
  }
  if (which === 'firefox') {
    // The "moz-" channel is playwright's WebDriver BiDi driver for a stock
    // Firefox (its default firefox driver needs a patched build).
    return firefox.launch({
      channel: 'moz-firefox',
      executablePath: process.env.FIREFOX || '/usr/bin/firefox-esr',
      headless: true,
      firefoxUserPrefs: { 'app.update.enabled': false, 'browser.shell.checkDefaultBrowser': false },
    });
  }
  throw new Error(`SNOW_BROWSER=${which}: chromium or firefox`);
}
let browser;
try {
  browser = await launch();
} catch (e) {
  // Each playwright release speaks the BiDi of the Firefox of its day: 1.64.1
  // drives 153 ESR (Debian's bookworm-security) but not 140 ESR.
  if (which === 'firefox' && /unknown command/.test(String(e.message)))
    e = new Error(`${String(e.message).split('\n')[0]} (this Firefox lacks a WebDriver BiDi command playwright-core uses: upgrade firefox-esr; tested with 153 ESR)`);
  notOk(`${which} starts`, e);
  process.exit(1);
}
const pageErrors = [];

async function newPage() {
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  const page = await ctx.newPage();
  page.setDefaultTimeout(15000);
  page.on('pageerror', (e) => pageErrors.push(e.message));
  return page;
}

async function login(page, user, password) {
  await page.goto(url);
  await page.waitForSelector('#login');
  await page.fill('#login input[name=user]', user);
  await page.fill('#login input[name=password]', password);
  await page.click('#login button[type=submit]');
  await page.waitForSelector('#node-rows tr');
}

const shot = (page, name) => page.screenshot({ path: `${shots}/${tag ? which + '-' : ''}${name}.png` });

// Confirm the dialog that an action opens, checking that it says what will happen.
async function confirmDialog(page, mustSay) {
  await page.waitForSelector('dialog#confirm[open]');
  const text = await page.textContent('dialog#confirm');
  assert(!mustSay || text.includes(mustSay), `the confirmation does not say '${mustSay}': ${text}`);
  await page.click('dialog#confirm .confirm-ok');
}

// Wait until the task in the corner for LABEL says done (or fails).
async function taskDone(page, label, timeout = 30000) {
  const t = page.locator('#tasks .task', { hasText: label }).last();
  await t.waitFor();
  await page.waitForFunction((el) => el.classList.contains('task-done') || el.classList.contains('task-failed'),
    await t.elementHandle(), { timeout });
  const cls = await t.getAttribute('class');
  const txt = await t.textContent();
  assert(cls.includes('task-done'), `task '${label}' failed: ${txt}`);
  return txt;
}

const visibleRows = (page) => page.$$eval('#node-rows tr', (rs) => rs.filter((r) => !r.hidden).length);

async function plotPoints(page) {
  return page.$$eval('#plots .plot', (ps) => ps.map((p) => Number(p.dataset.points || 0)));
}

async function openNode(page, name) {
  await page.goto(`${url}#/node/${name}`);
  await page.waitForSelector('#node-state');
}

async function setThreshold(page, name, value, kind, rise, clear) {
  await page.click('button[data-tab=thresholds]');
  await page.waitForSelector('#threshold-form');
  await page.selectOption('#threshold-form select[name=value]', value);
  await page.selectOption('#threshold-form select[name=kind]', kind);
  await page.fill('#threshold-form input[name=rise]', String(rise));
  await page.fill('#threshold-form input[name=clear]', String(clear));
  await page.click('#threshold-form button[type=submit]');
  await confirmDialog(page, 'Raised when');
  await taskDone(page, `Threshold ${kind} ${value}`);
  await page.waitForSelector(`#thresholds tr[data-value="${value}"][data-kind=${kind}]`, { timeout: 20000 });
}

async function deviceOp(page, path, op, want) {
  await page.click('button[data-tab=devices]');
  const btn = page.locator(`#devices tr[data-path="${path}"] button[data-op=${op}]`);
  await btn.click();
  await confirmDialog(page, path);
  await taskDone(page, `${op} ${path}`);
  await page.waitForFunction(([p, w]) => {
    const tr = document.querySelector(`#devices tr[data-path="${p}"]`);
    return tr && tr.querySelector('.run').textContent === w;
  }, [path, want], { timeout: 20000 });
}

async function viewerChecks(nodeHasDevices) {
  const page = await newPage();
  await login(page, 'view', 'viewer-pass-1');
  await check('viewer: the overview offers no actions', async () => {
    assert(!(await page.$('#bulk')), 'bulk action buttons are there');
    assert(!(await page.$('#node-rows input.sel')), 'row checkboxes are there');
  });
  await openNode(page, nodeName);
  await check('viewer: the node page offers no actions, thresholds or device operations', async () => {
    assert((await page.$$('#node-actions button')).length === 0, 'action buttons shown');
    await page.click('button[data-tab=thresholds]');
    assert(!(await page.$('#threshold-form')), 'threshold form shown');
    await page.click('button[data-tab=devices]');
    if (nodeHasDevices) await page.waitForSelector('#devices tbody tr');
    assert((await page.$$('#devices button')).length === 0, 'device buttons shown');
  });
  await shot(page, `${scenario}-viewer-node`);
  await check('viewer: the API refuses a command anyway (403)', async () => {
    const r = await page.evaluate(async (n) => {
      const me = await (await fetch('/api/v1/me')).json();
      const res = await fetch(`/api/v1/nodes/${n}/commands`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Snow-CSRF': me.csrf }, body: '{"op":"reboot"}' });
      return res.status;
    }, nodeName);
    assert(r === 403, `status ${r}`);
  });
  await page.context().close();
}

function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { n: s.length, median: q(0.5), p95: q(0.95), max: s[s.length - 1], mean: s.reduce((a, b) => a + b, 0) / (s.length || 1) };
}

async function simScenario() {
  const page = await newPage();
  await page.goto(url);
  await page.waitForSelector('#login');
  await shot(page, 'sim-login');
  await check('login with a wrong password is refused', async () => {
    await page.fill('#login input[name=user]', 'adm');
    await page.fill('#login input[name=password]', 'wrong-password');
    await page.click('#login button[type=submit]');
    await page.waitForFunction(() => document.querySelector('#login-error').textContent.includes('Wrong'));
  });
  await check('admin logs in and sees all 1000 nodes', async () => {
    await login(page, 'adm', 'admin-pass-1');
    await page.waitForFunction(() => document.querySelectorAll('#node-rows tr').length >= 1000, null, { timeout: 20000 });
    await page.waitForFunction(() => /100\d nodes: 1000 online/.test(document.querySelector('#counts').textContent), null, { timeout: 30000 });
  });
  await shot(page, 'sim-overview');

  // The cost of the overview at 1000 nodes, from a fresh load (the session cookie stays).
  await check('overview first paint and update cost measured', async () => {
    await page.reload();
    await page.waitForFunction(() => window.snowPerf && window.snowPerf.overviewFirstPaint && window.snowPerf.overviewRows >= 1000, null, { timeout: 20000 });
    await page.evaluate(() => { const p = window.snowPerf; p.updates.length = 0; p.updateRows.length = 0; p.messages.length = 0; p.messageBytes = 0; });
    await page.waitForTimeout(10000);
    const p = await page.evaluate(() => window.snowPerf);
    const nav = await page.evaluate(() => { const e = performance.getEntriesByType('navigation')[0]; return { dcl: e.domContentLoadedEventEnd, load: e.loadEventEnd }; });
    const u = stats(p.updates), r = stats(p.updateRows);
    console.log(`perf: ${tag}overview at ${p.overviewRows} nodes: first paint ${p.overviewFirstPaint.toFixed(0)} ms after navigation start (DOMContentLoaded ${nav.dcl.toFixed(0)} ms; building the rows ${p.overviewBuild.toFixed(1)} ms; mount to paint ${p.overviewMount.toFixed(0)} ms)`);
    console.log(`perf: ${tag}overview updates over 10 s: ${u.n} frames, ${r.mean.toFixed(0)} rows each on average; per frame median ${u.median.toFixed(2)} ms, p95 ${u.p95.toFixed(2)} ms, max ${u.max.toFixed(2)} ms; busy ${(u.mean * u.n / 100).toFixed(2)} % of the time`);
    const m = stats(p.messages);
    console.log(`perf: ${tag}stream "values" messages over 10 s: ${m.n}, ${(p.messageBytes / 1e6).toFixed(1)} MB; JSON.parse + merge per message median ${m.median.toFixed(2)} ms, p95 ${m.p95.toFixed(2)} ms; with the frames: ${((m.mean * m.n + u.mean * u.n) / 100).toFixed(2)} % of the main thread`);
    assert(u.n > 5, `only ${u.n} update frames in 10 s`);
  });

  await check('filter by name shows only the matching nodes', async () => {
    await page.fill('#filter', 'sim001');
    await page.waitForFunction(() => [...document.querySelectorAll('#node-rows tr')].filter((r) => !r.hidden).length === 10);
    await shot(page, 'sim-filter');
    await page.fill('#filter', '');
    await page.waitForFunction(() => [...document.querySelectorAll('#node-rows tr')].filter((r) => !r.hidden).length >= 1000);
  });
  await check('state filter "raised" shows only nodes with a raised threshold', async () => {
    await page.selectOption('#state-filter', 'raised');
    const bad = await page.$$eval('#node-rows tr', (rs) => rs.filter((r) => !r.hidden && !r.classList.contains('st-raised')).length);
    assert(bad === 0, `${bad} rows shown that are not raised`);
    await page.selectOption('#state-filter', '');
  });
  await check('sorting by load puts the highest load first', async () => {
    await page.click('th[data-key=load]');
    await page.click('th[data-key=load]');
    const loads = await page.$$eval('#node-rows tr', (rs) => rs.slice(0, 20).map((r) => parseFloat(r.children[3].textContent) || 0));
    assert(loads[0] >= loads[19], `first ${loads[0]} < 20th ${loads[19]}`);
    await shot(page, 'sim-sorted-load');
    await page.click('th[data-key=name]');
  });
  await check('bulk action on selected nodes: reload config on 3 nodes, with progress', async () => {
    await page.fill('#filter', 'sim000');
    await page.waitForFunction(() => [...document.querySelectorAll('#node-rows tr')].filter((r) => !r.hidden).length === 9);
    for (const n of ['sim0002', 'sim0003', 'sim0004']) await page.check(`#node-rows tr[data-name=${n}] input.sel`);
    await page.click('#bulk button[data-op="config.reload"]');
    await confirmDialog(page, 'sim0002, sim0003, sim0004');
    await taskDone(page, 'Reload config on 3 nodes');
    await shot(page, 'sim-bulk');
    await page.fill('#filter', '');
  });

  await openNode(page, nodeName);
  await check(`node page of ${nodeName}: its plots move`, async () => {
    await page.waitForSelector('#plots .plot');
    const a = await plotPoints(page);
    await page.waitForTimeout(3500);
    const b = await plotPoints(page);
    assert(b.length >= 3 && b[0] > a[0], `points ${a} -> ${b}`);
  });
  await check('on a laptop screen (1366 px) the plots sit two abreast and nothing scrolls sideways', async () => {
    await page.waitForFunction(() => {
      const ps = [...document.querySelectorAll('#plots .plot')];
      if (ps.length < 2) return false;
      const a = ps[0].getBoundingClientRect(), b = ps[1].getBoundingClientRect();
      return Math.abs(a.top - b.top) < 1 && b.left > a.right;
    }, null, { timeout: 5000 }).catch(async () => {
      const r = await page.$$eval('#plots .plot', (ps) => ps.slice(0, 2).map((p) => JSON.stringify(p.getBoundingClientRect())));
      throw new Error(`the first two plots: ${r.join(' ')}`);
    });
    const [sw, cw] = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
    assert(sw <= cw, `page ${sw} px wide in a ${cw} px window`);
  });
  await shot(page, 'sim-node-plots');
  await check('set a threshold from the node page', () => setThreshold(page, nodeName, 'vm.load.avg1', 'high', 0.001, 0.0005));
  await check('the threshold raises (load > 0.001)', () => page.waitForSelector('#thresholds tr[data-value="vm.load.avg1"].thr-raised', { timeout: 20000 }));
  await shot(page, 'sim-node-threshold');
  await check('the threshold is drawn on the load plot', async () => {
    await page.click('button[data-tab=plots]');
    await page.waitForSelector('#plots .plot[data-value="vm.load.avg1"]');
  });
  await check('take cpu/cpu1 offline', () => deviceOp(page, 'cpu/cpu1', 'offline', 'offline'));
  await shot(page, 'sim-node-device-offline');
  await check('bring cpu/cpu1 back online', () => deviceOp(page, 'cpu/cpu1', 'online', 'online'));
  await check('reconfigure: kernel arguments and a variable, with a confirmation', async () => {
    await page.click('#node-actions button[data-op=reconfigure]');
    await page.waitForSelector('#reconf');
    await page.fill('#reconf input[name=cmdline]', 'quiet');
    await page.fill('#reconf textarea[name=env]', 'SNOW_TEST=1');
    await shot(page, 'sim-node-reconfigure');
    await page.click('dialog#confirm .confirm-ok');
    await page.waitForFunction(() => /Reconfigured|failed/.test(document.querySelector('dialog#confirm').textContent));
    const t = await page.textContent('dialog#confirm');
    await page.click('dialog#confirm .confirm-ok');
    assert(t.includes('Reconfigured'), t);
    const n = await page.evaluate(async (nm) => (await fetch(`/api/v1/nodes/${nm}`)).json(), nodeName);
    assert(n.settings && n.settings.cmdline === 'quiet' && n.settings.env && n.settings.env.SNOW_TEST === '1', JSON.stringify(n.settings));
  });
  await check('boot history of the node', async () => {
    await page.click('button[data-tab=boots]');
    await page.waitForSelector('#boot-table tbody tr');
  });
  await check('values tree: search narrows it', async () => {
    await page.click('button[data-tab=values]');
    await page.fill('#value-search', 'load');
    await page.waitForFunction(() => { const v = [...document.querySelectorAll('#values tr[data-value]')].filter((r) => !r.hidden); return v.length >= 1 && v.length <= 5; });
    await shot(page, 'sim-node-values');
  });
  await check('events view lists events live', async () => {
    await page.goto(`${url}#/events`);
    await page.waitForSelector('#event-rows tr');
    const n0 = await page.$$eval('#event-rows tr', (r) => r.length);
    await page.waitForFunction((n) => document.querySelectorAll('#event-rows tr').length > n, n0, { timeout: 15000 });
    await shot(page, 'sim-events');
  });
  await check('inventory pages: profiles/images say "not available" or list, users list', async () => {
    for (const p of ['profiles', 'images']) {
      await page.goto(`${url}#/inventory/${p}`);
      await page.waitForSelector('#inv-body h2 ~ table, #inv-body h2 ~ p');
    }
    await page.goto(`${url}#/inventory/users`);
    await page.waitForSelector('#inv-body tr[data-user=view]');
    await shot(page, 'sim-users');
  });
  if (process.env.SNOW_XSS_NODE) {
    await check('markup from a node is shown as text, never run (XSS)', async () => {
      await openNode(page, process.env.SNOW_XSS_NODE);
      await page.waitForFunction((t) => document.querySelector('#node-facts').textContent.includes(t), process.env.SNOW_XSS_TEXT);
      await page.click('button[data-tab=values]');
      await page.waitForSelector('#values tr[data-value="vm.load.avg1"]');
      await page.goto(`${url}#/`);
      await page.waitForSelector('#node-rows tr[data-name=evil]');
      assert(await page.evaluate(() => window.__xss === undefined && !document.querySelector('main img')), 'the markup ran');
    });
  }
  await check('logout ends the session', async () => {
    await page.click('#logout');
    await page.waitForSelector('#login');
  });
  await page.context().close();
  await viewerChecks(true);
}

async function qemuScenario() {
  const page = await newPage();
  await check(`admin logs in and sees ${nodeName} online`, async () => {
    await login(page, 'adm', 'admin-pass-1');
    await page.waitForSelector(`#node-rows tr[data-name=${nodeName}].st-online, #node-rows tr[data-name=${nodeName}].st-raised`, { timeout: 60000 });
  });
  await shot(page, 'qemu-overview');
  await openNode(page, nodeName);
  await check(`${nodeName}: its plots move`, async () => {
    await page.waitForSelector('#plots .plot');
    const a = await plotPoints(page);
    await page.waitForTimeout(6000);
    const b = await plotPoints(page);
    assert(b.length >= 2 && b[0] > a[0], `points ${a} -> ${b}`);
  });
  await shot(page, 'qemu-node-plots');
  const node = await page.evaluate(async (n) => (await fetch(`/api/v1/nodes/${n}`)).json(), nodeName);
  const gauges = (node.schema || []).filter((s) => s.kind === 'gauge').map((s) => s.name);
  const g = gauges.includes('kern.procs.count') ? 'kern.procs.count' : gauges[0];
  console.log(`# ${nodeName}: ${gauges.length} gauges, ${(node.devices || []).length} devices (${(node.devices || []).map((d) => d.path).join(' ')})`);
  if (g) {
    await check(`set a threshold on ${g}`, () => setThreshold(page, nodeName, g, 'high', 1, 0));
    await check('the threshold raises', () => page.waitForSelector(`#thresholds tr[data-value="${g}"].thr-raised`, { timeout: 30000 }));
    await shot(page, 'qemu-node-threshold');
    await check('clear the threshold', async () => {
      await page.click(`#thresholds tr[data-value="${g}"] button`);
      await confirmDialog(page, 'disabled');
      await taskDone(page, `Clear threshold ${g}`);
      await page.waitForSelector(`#thresholds tr[data-value="${g}"]`, { state: 'detached', timeout: 20000 });
    });
  } else {
    notOk('the QEMU node reports gauges');
  }
  const cpu1 = (node.devices || []).find((d) => d.path.endsWith('cpu1'));
  if (cpu1) {
    await check(`take ${cpu1.path} offline`, () => deviceOp(page, cpu1.path, 'offline', 'offline'));
    await shot(page, 'qemu-node-device-offline');
    await check(`bring ${cpu1.path} back online`, () => deviceOp(page, cpu1.path, 'online', 'online'));
  } else {
    console.log(`skip - the QEMU node reports no cpu1 device (its agent has no DDM devices yet)`);
  }
  await check(`reboot ${nodeName} and watch it come back online`, async () => {
    await page.click('button[data-tab=plots]');
    const since = (await page.evaluate(async (n) => (await fetch(`/api/v1/nodes/${n}`)).json(), nodeName)).online_since;
    await page.click('#node-actions button[data-op=reboot]');
    await confirmDialog(page, 'comes back online');
    await taskDone(page, 'Reboot');
    await page.waitForFunction(() => !/^online/.test(document.querySelector('#node-state').textContent), null, { timeout: 60000 });
    await shot(page, 'qemu-node-rebooting');
    // Poll from here: the page must say online, and snowd must have a newer online_since.
    const t0 = Date.now();
    for (;;) {
      const [st, j] = await page.evaluate(async (n) => [document.querySelector('#node-state').textContent,
        await (await fetch(`/api/v1/nodes/${n}`)).json()], nodeName);
      if (/^online/.test(st) && j.online_since > since) break;
      assert(Date.now() - t0 < 120000, `not back online after 120 s (page: ${st}, snowd: ${j.state})`);
      await page.waitForTimeout(1000);
    }
    console.log(`# ${nodeName} back online ${((Date.now() - t0) / 1000).toFixed(0)} s after it left`);
    await shot(page, 'qemu-node-back-online');
  });
  await page.context().close();
  await viewerChecks(!!cpu1);
}

try {
  if (scenario === 'sim') await simScenario();
  else if (scenario === 'qemu') await qemuScenario();
  else throw new Error(`unknown scenario '${scenario}'`);
} catch (e) {
  notOk('browser scenario ran to its end', e);
} finally {
  if (pageErrors.length) notOk('no script error in the page', pageErrors.join(' | '));
  else ok('no script error in the page');
  await browser.close();
}
process.exit(failures ? 1 : 0);
