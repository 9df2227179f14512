// What the widget costs the page that embeds it: a benchmark, not a test (`cargo xtask bench-host`).
//
// Headless Chromium driven over raw CDP at 4x CPU throttling (Emulation.setCPUThrottlingRate),
// one fresh browser context per run, medians of N runs, every variant interleaved in the same run
// so a shared, noisy machine treats them alike. Host pages come from a small server of our own, visited either as
// http://127.0.0.1:H (the *same site* as the widget host http://127.0.0.1:W, so the frame runs on
// the page's main thread, as on most phones) or as http://localhost:H (another site: desktop site
// isolation moves the frame to its own process).
//
// Per scenario: main-thread task time added over the same page without a widget (CDP
// Performance.getMetrics TaskDuration, after load plus a 6 s settle), long tasks the host page
// observes (PerformanceObserver `longtask`, which includes a same-site frame's: count and
// longest) at load and at open, JS heap, and the time from the click on the launcher to the
// first animation frame with the panel, its tabs and the selected tab's content laid out.
//
// Usage: node host.mjs [--runs N] [--variant name=ASSETS_DIR ...] [--json FILE]
// (`cargo xtask bench-host` passes the freshly built target/dist as `porchlight`; another
// --variant, e.g. an older build's dist, is measured side by side.)

import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, writeFileSync, readFileSync, rmSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM_ARGS } from '../harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');
const BIN = process.env.PORCHLIGHT_BIN || join(root, 'target/debug/porchlight');
const FEEDBACK_JS = join(root, 'target/bench/package/dist/feedback-js.min.js');
const THROTTLE = 4;
const SETTLE_MS = 6000; // after `load`: the idle preload (requestIdleCallback) runs well inside it

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const runs = Number(opt('--runs', 5));
const jsonOut = opt('--json', join(root, 'target/bench/host.json'));
const variants = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--variant') {
    const [name, dir] = args[i + 1].split('=');
    variants.push({ name, dir });
  }
}
if (!variants.length) variants.push({ name: 'porchlight', dir: join(root, 'target/dist') });

// --- the host pages ---------------------------------------------------------------------------

const hostPort = await freePort();
const SAME = `http://127.0.0.1:${hostPort}`;
const CROSS = `http://localhost:${hostPort}`;

// The page observes its own long tasks (a same-site frame's are reported to it too); with
// ?save-data it reports a metered connection, as a phone on data saver would.
const OBSERVE = `<script>window.__lt = [];
new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__lt.push(Math.round(e.duration)); }).observe({ type: 'longtask', buffered: true });
if (location.search === '?save-data') Object.defineProperty(navigator, 'connection', { value: { saveData: true } });</script>`;

function page(title, tag) {
  // A modest article page, the same for every widget and for the baseline.
  const body = '<p>' + 'Host content, a paragraph of an ordinary shop page. '.repeat(60) + '</p>';
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<title>${title}</title>${OBSERVE}</head><body><h1>${title}</h1>${body.repeat(6)}${tag}</body></html>`
  );
}

const servers = [];
const hostServer = createServer((req, res) => {
  const url = new URL(req.url, 'http://x'); // (the query, ?save-data, is read by the page)
  const [, kind, name] = url.pathname.split('/');
  if (kind === 'feedback-js.min.js') {
    res.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(FEEDBACK_JS));
    return;
  }
  if (kind === 'none') {
    res.writeHead(200, { 'content-type': 'text/html' }).end(page('No widget', ''));
  } else if (kind === 'feedback-js') {
    const tag = `<script src="/feedback-js.min.js" data-feedback-endpoint="${SAME}/none"></script>`;
    res.writeHead(200, { 'content-type': 'text/html' }).end(page('feedback-js', tag));
  } else if (kind === 'w') {
    const server = servers.find((s) => s.name === name);
    const tag = `<script src="${server.origin}/porchlight.js" data-site="bench" async></script>`;
    res.writeHead(200, { 'content-type': 'text/html' }).end(page(name, tag));
  } else res.writeHead(404).end();
});
await new Promise((r) => hostServer.listen(hostPort, '127.0.0.1', r));

// --- one real server per variant -----------------------------------------------------------------

const dir = mkdtempSync(join(tmpdir(), 'porchlight-bench-'));
for (const v of variants) {
  const config = join(dir, `${v.name}.toml`);
  writeFileSync(
    config,
    `[[sites]]
id = "bench"
name = "Bench Shop"
origins = ["${SAME}", "${CROSS}"]
timezone = "Europe/Riga"
greeting = "Hi! How can we help?"
presence_default = "online"
`,
  );
  const child = spawn(BIN, ['serve', '--config', config, '--db', join(dir, `${v.name}.db`), '--listen', '127.0.0.1:0', '--assets', v.dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, RUST_LOG: 'warn' },
  });
  const origin = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/\S+)/);
      if (m) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`server for ${v.name} exited with ${code}: ${out}`)));
  });
  servers.push({ name: v.name, origin, child });
}

// --- measuring ------------------------------------------------------------------------------------
//
// Raw CDP over a WebSocket, not Playwright: Playwright creates script worlds in every new frame
// (its utility world, init scripts), work a visitor's browser never does, and it would be billed
// to the widget's frame. Here nothing runs in the frame until the panel-visible probe after the
// click. The host page observes long tasks itself (a same-site frame's tasks are reported to it).

import { createRequire } from 'node:module';
const { ws: WebSocket } = createRequire(import.meta.url)('playwright-core/lib/utilsBundle');

const profile = mkdtempSync(join(tmpdir(), 'porchlight-bench-chromium-'));
const chrome = spawn('/usr/bin/chromium', [...CHROMIUM_ARGS, '--headless', '--remote-debugging-port=0', `--user-data-dir=${profile}`, 'about:blank'], {
  stdio: ['ignore', 'ignore', 'pipe'],
});
const wsUrl = await new Promise((resolve, reject) => {
  let err = '';
  chrome.stderr.on('data', (d) => {
    err += d;
    const m = err.match(/DevTools listening on (ws:\S+)/);
    if (m) resolve(m[1]);
  });
  chrome.on('exit', (code) => reject(new Error(`chromium exited with ${code}: ${err}`)));
});
const socket = new WebSocket(wsUrl, { perMessageDeflate: false, maxPayload: 256 * 1024 * 1024 });
await new Promise((r, j) => (socket.once('open', r), socket.once('error', j)));
let nextId = 0;
const pending = new Map();
const listeners = new Set();
socket.on('message', (data) => {
  const msg = JSON.parse(data.toString());
  if (msg.id !== undefined) {
    const p = pending.get(msg.id);
    pending.delete(msg.id);
    if (msg.error) p.reject(new Error(`${p.method}: ${msg.error.message}`));
    else p.resolve(msg.result);
  } else for (const l of listeners) l(msg);
});
function send(method, params = {}, sessionId) {
  const id = ++nextId;
  socket.send(JSON.stringify({ id, method, params, sessionId }));
  return new Promise((resolve, reject) => pending.set(id, { resolve, reject, method }));
}
function event(sessionId, method, timeout = 30000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (listeners.delete(on), reject(new Error(`no ${method}`))), timeout);
    const on = (msg) => {
      if (msg.sessionId === sessionId && msg.method === method) {
        clearTimeout(timer);
        listeners.delete(on);
        resolve(msg.params);
      }
    };
    listeners.add(on);
  });
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function evaluate(session, expression, contextId) {
  const r = await send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true, contextId }, session);
  if (r.exceptionDetails) throw new Error(`${expression.slice(0, 60)}: ${r.exceptionDetails.text}`);
  return r.result.value;
}

async function taskMetrics(session) {
  const { metrics } = await send('Performance.getMetrics', {}, session);
  const get = (name) => metrics.find((m) => m.name === name)?.value ?? 0;
  return { taskMs: get('TaskDuration') * 1000, heapMb: get('JSHeapUsedSize') / 1e6 };
}

const LAUNCHER = `(() => {
  const el = document.querySelector('porchlight-widget')?.shadowRoot?.querySelector('button')
    || [...document.querySelectorAll('button')].find((b) => /Feedback/.test(b.textContent));
  if (!el) return null;
  const r = el.getBoundingClientRect();
  return r.width ? { x: r.x + r.width / 2, y: r.y + r.height / 2 } : null;
})()`;

async function click(session, at) {
  const base = { x: at.x, y: at.y, button: 'left', clickCount: 1 };
  await send('Input.dispatchMouseEvent', { type: 'mouseMoved', x: at.x, y: at.y }, session);
  const t0 = Date.now();
  await send('Input.dispatchMouseEvent', { type: 'mousePressed', ...base }, session);
  await send('Input.dispatchMouseEvent', { type: 'mouseReleased', ...base }, session);
  return t0;
}

// In the widget's frame (an isolated world: nothing of the page's or the panel's), the epoch ms
// of the first animation frame where the panel is laid out with its three tabs and the selected
// tab's content.
const PANEL_VISIBLE = `new Promise((resolve) => {
  const check = () => {
    const p = document.querySelector('[data-testid=pl-panel]');
    if (innerHeight > 0 && p && p.getBoundingClientRect().height > 0 && document.querySelectorAll('[role=tab]').length === 3
      && document.querySelector('[role=tabpanel]:not([hidden]) > *')) resolve(Date.now());
    else requestAnimationFrame(check);
  };
  check();
})`;
const FEEDBACK_VISIBLE = `new Promise((resolve) => {
  const check = () => (/What feedback do you have\\?/.test(document.body.innerText) ? resolve(Date.now()) : requestAnimationFrame(check));
  check();
})`;

/** An isolated world in the widget's frame (creating one costs the frame a script context). */
async function frameWorld(session) {
  for (let tries = 0; tries < 400; tries++) {
    const { frameTree } = await send('Page.getFrameTree', {}, session);
    const frame = (frameTree.childFrames || []).map((c) => c.frame).find((f) => f.url.includes('/frame?'));
    if (frame) {
      try {
        return (await send('Page.createIsolatedWorld', { frameId: frame.id, worldName: 'bench' }, session)).executionContextId;
      } catch {
        // the frame is navigating: try again
      }
    }
    await sleep(10);
  }
  throw new Error('no widget frame');
}

async function panelVisibleAt(session, widget, world) {
  if (widget === 'feedback-js') return evaluate(session, FEEDBACK_VISIBLE);
  for (let tries = 0; ; tries++) {
    try {
      return await evaluate(session, PANEL_VISIBLE, world ?? (await frameWorld(session)));
    } catch (e) {
      if (tries > 50) throw e;
      world = null; // the frame navigated under the probe: a new world in the new document
      await sleep(10);
    }
  }
}

/**
 * One run: `widget` is 'none', 'feedback-js' or a variant's name; `mode` 'idle' (load, settle,
 * then click), 'save-data' (the same with navigator.connection.saveData) or 'click' (click as
 * soon as the launcher shows).
 */
async function once({ widget, mode, origin }) {
  const { browserContextId } = await send('Target.createBrowserContext', { disposeOnDetach: true });
  const { targetId } = await send('Target.createTarget', { url: 'about:blank', browserContextId });
  const { sessionId: s } = await send('Target.attachToTarget', { targetId, flatten: true });
  await send('Page.enable', {}, s);
  await send('Performance.enable', {}, s);
  await send('Emulation.setDeviceMetricsOverride', { width: 1280, height: 800, deviceScaleFactor: 1, mobile: false }, s);
  await send('Emulation.setCPUThrottlingRate', { rate: THROTTLE }, s);
  const path = widget === 'none' || widget === 'feedback-js' ? `/${widget}` : `/w/${widget}`;
  const url = `${origin}${path}${mode === 'save-data' ? '?save-data' : ''}`;
  const result = { widget, mode, site: origin === SAME ? 'same' : 'cross' };
  const loaded = event(s, 'Page.loadEventFired');
  await send('Page.navigate', { url }, s);
  if (mode === 'click') {
    let at = null;
    for (let i = 0; !at && i < 2000; i++) at = await evaluate(s, LAUNCHER).catch(() => null);
    const t0 = await click(s, at);
    result.visibleMs = (await panelVisibleAt(s, widget)) - t0;
    await loaded;
    await sleep(SETTLE_MS);
    Object.assign(result, await taskMetrics(s));
    result.loadLongTasks = await evaluate(s, 'window.__lt');
  } else {
    await loaded;
    await sleep(SETTLE_MS);
    Object.assign(result, await taskMetrics(s));
    // Clicked only on the same site (another site's frame runs in its own process: its panel is
    // not the host's cost). The probe's world is made before the click, so its cost is in
    // neither the main-thread figure nor the open window.
    const clicked = widget !== 'none' && origin === SAME;
    const world = clicked && widget !== 'feedback-js' && mode === 'idle' ? await frameWorld(s) : null;
    if (clicked) await sleep(500);
    result.loadLongTasks = await evaluate(s, 'window.__lt');
    if (clicked) {
      const t0 = await click(s, await evaluate(s, LAUNCHER));
      result.visibleMs = (await panelVisibleAt(s, widget, world)) - t0;
      await sleep(1500);
      result.openLongTasks = (await evaluate(s, 'window.__lt')).slice(result.loadLongTasks.length);
    }
  }
  await send('Target.disposeBrowserContext', { browserContextId });
  return result;
}

const median = (xs) => {
  const s = xs.filter((x) => x !== undefined && !Number.isNaN(x)).sort((a, b) => a - b);
  if (!s.length) return undefined;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const scenarios = [
  { widget: 'none', mode: 'idle', origin: SAME },
  { widget: 'none', mode: 'idle', origin: CROSS },
  { widget: 'feedback-js', mode: 'idle', origin: SAME },
];
for (const v of variants) {
  scenarios.push(
    { widget: v.name, mode: 'idle', origin: SAME },
    { widget: v.name, mode: 'save-data', origin: SAME },
    { widget: v.name, mode: 'click', origin: SAME },
    { widget: v.name, mode: 'idle', origin: CROSS },
  );
}
if (!existsSync(FEEDBACK_JS)) scenarios.splice(2, 1);

// Interleaved: run 1 of every scenario, then run 2 of every scenario…, so a burst of noise on the
// shared machine spreads over all of them.
const raw = scenarios.map(() => []);
for (let r = 0; r < runs; r++) {
  for (const [i, s] of scenarios.entries()) raw[i].push(await once(s));
  process.stderr.write(`run ${r + 1}/${runs} done\n`);
}

const rows = scenarios.map((s, i) => {
  const rs = raw[i];
  const base = median(raw[scenarios.findIndex((b) => b.widget === 'none' && b.origin === s.origin)].map((r) => r.taskMs));
  const flat = (key) => rs.map((r) => r[key] || []);
  const longest = (key) => median(flat(key).map((l) => (l.length ? Math.max(...l) : 0)));
  const count = (key) => median(flat(key).map((l) => l.length));
  return {
    widget: s.widget,
    mode: s.mode,
    site: s.origin === SAME ? 'same' : 'cross',
    hostTaskMs: Math.round(median(rs.map((r) => r.taskMs))),
    addedTaskMs: s.widget === 'none' ? 0 : Math.round(median(rs.map((r) => r.taskMs)) - base),
    loadLongTasks: count('loadLongTasks'),
    loadLongestMs: longest('loadLongTasks'),
    openLongTasks: s.widget === 'none' ? undefined : count('openLongTasks'),
    openLongestMs: s.widget === 'none' ? undefined : longest('openLongTasks'),
    heapMb: Number(median(rs.map((r) => r.heapMb)).toFixed(1)),
    visibleMs: median(rs.map((r) => r.visibleMs)) === undefined ? undefined : Math.round(median(rs.map((r) => r.visibleMs))),
  };
});

const fmt = (v, unit = '') => (v === undefined ? '—' : `${v}${unit}`);
console.log(`\nhost cost @${THROTTLE}x CPU, medians of ${runs} (same = host on 127.0.0.1:${hostPort}, cross = localhost)\n`);
console.log('| widget | mode | site | main thread added | long tasks at load | long tasks at open | JS heap | panel visible after click |');
console.log('|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  const lt = (n, ms) => (n === undefined ? '—' : n ? `${n} (longest ${ms} ms)` : 'none');
  console.log(
    `| ${r.widget} | ${r.mode} | ${r.site} | ${r.widget === 'none' ? `(${r.hostTaskMs} ms)` : `+${r.addedTaskMs} ms`} | ` +
      `${lt(r.loadLongTasks, r.loadLongestMs)} | ${lt(r.openLongTasks, r.openLongestMs)} | ${r.heapMb} MB | ${fmt(r.visibleMs, ' ms')} |`,
  );
}
mkdirSync(dirname(jsonOut), { recursive: true });
writeFileSync(jsonOut, JSON.stringify({ throttle: THROTTLE, runs, rows, raw }, null, 2));
console.log(`\nwritten: ${jsonOut}`);

socket.close();
chrome.kill();
for (const s of servers) s.child.kill('SIGTERM');
hostServer.close();
rmSync(dir, { recursive: true, force: true });
await new Promise((r) => (chrome.exitCode === null ? chrome.once('exit', r) : r()));
rmSync(profile, { recursive: true, force: true });

async function freePort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const port = s.address().port;
  await new Promise((r) => s.close(r));
  return port;
}
