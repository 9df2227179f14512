// The end-to-end harness: the real `porchlight` binary on a real SQLite file, host pages served
// from a different origin (http://localhost:PORT vs the widget host http://127.0.0.1:PORT), and
// headless Chromium driven by playwright-core. Nothing is mocked.

import { spawn, execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const BIN = process.env.PORCHLIGHT_BIN || join(root, 'target/debug/porchlight');
const ASSETS = process.env.PORCHLIGHT_ASSETS || join(root, 'target/dist');

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** Host pages, keyed by path. Each is a function of the widget origin. */
function hostPages(widget) {
  const tag = (attrs = 'data-site="e2e"') => `<script src="${widget}/porchlight.js" ${attrs} async></script>`;
  const page = (title, body, head = '') =>
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<title>${title}</title>${head}</head><body><h1>${title}</h1><p>Host content.</p>` +
    `<button id="host-button" type="button">A host button</button>${body}</body></html>`;
  return {
    '/plain': { html: page('Plain host', tag()) },
    '/csp': {
      html: page('Strict CSP host', `<script src="/violations.js"></script>${tag()}`),
      headers: {
        'Content-Security-Policy': `default-src 'none'; script-src 'self' ${widget}; frame-src ${widget}; style-src 'self'; img-src 'self'; connect-src 'self'`,
      },
    },
    '/hostile': {
      html: page(
        'Hostile CSS host',
        `<div class="overlay">A full-page overlay with a huge z-index</div>${tag()}`,
        '<link rel="stylesheet" href="/hostile.css">',
      ),
    },
    '/nosite': { html: page('Missing data-site', `<script src="${widget}/porchlight.js" async></script>`) },
    '/offline': { html: page('Unreachable endpoint', tag('data-site="e2e" data-endpoint="http://127.0.0.1:9"')) },
    '/queue': { html: page('Command queue', `<script src="/queue.js"></script>${tag()}`) },
    '/left': { html: page('Left launcher', tag('data-site="e2e" data-position="left"')) },
    '/parts': {
      html: page('Restyled launcher', tag(), '<link rel="stylesheet" href="/parts.css">'),
    },
    '/parts.css': {
      type: 'text/css',
      html: `porchlight-widget::part(icon) { clip-path: circle(50%); }
porchlight-widget::part(launcher) { border-radius: 4px; }`,
    },
    '/violations.js': {
      type: 'text/javascript',
      html: `window.__violations = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__violations.push(e.violatedDirective + ' ' + e.blockedURI);
});`,
    },
    '/queue.js': {
      type: 'text/javascript',
      html: `window.Porchlight = window.Porchlight || function () { (window.Porchlight.q = window.Porchlight.q || []).push(arguments); };
window.__events = [];
Porchlight('on', 'rating', function (d) { window.__events.push(['rating', d]); });
Porchlight('on', 'open', function () { window.__events.push(['open']); });
Porchlight('open');`,
    },
    '/hostile.css': {
      type: 'text/css',
      html: `* { all: unset !important; }
button, iframe, div { display: none !important; }
html, body { display: block !important; }
.overlay { display: block !important; position: fixed !important; inset: 0 !important; z-index: 2147483647 !important; background: rgba(0,0,0,.5) !important; }
#host-button { display: inline-block !important; }`,
    },
  };
}

function languagePage(widget, params) {
  const html = params.get('html');
  const data = params.get('data');
  const lang = html ? ` lang="${html}"` : '';
  const locale = data ? ` data-locale="${data}"` : '';
  const body = '<p>' + 'Host content. '.repeat(400) + '</p>';
  return {
    html:
      `<!doctype html><html${lang}><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
      `<title>Language host</title></head><body><h1>Language host</h1><button id="host-button" type="button">A host button</button>${body}` +
      `<script src="${widget}/porchlight.js" data-site="e2e"${locale} async></script></body></html>`,
  };
}

/** Serves the host pages on 127.0.0.1, to be visited as http://localhost:PORT. */
async function startHost(widgetOriginPromise) {
  const server = createServer(async (req, res) => {
    const widget = await widgetOriginPromise;
    const url = new URL(req.url, 'http://localhost');
    // `/lang?html=lv&data=ar&theme=…`: a host page in a given language, with an optional
    // data-locale (the language tests' pages).
    const entry = url.pathname === '/lang' ? languagePage(widget, url.searchParams) : hostPages(widget)[url.pathname];
    if (!entry) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'Content-Type': `${entry.type || 'text/html'}; charset=utf-8`, ...(entry.headers || {}) });
    res.end(entry.html);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://localhost:${server.address().port}` };
}

/** Starts the real server; resolves with its origin once it prints `listening on`. */
export const OPERATOR_TOKEN = 'e2e-operator-token-0123456789';

/**
 * Starts the real server; resolves with its origin once it prints `listening on`.
 * `site` is extra TOML for the e2e site (appended after its keys, so it may open sub-tables
 * such as `[sites.hours]`), `siteKeys` extra TOML keys of the site table itself (e.g.
 * `presence_default = "online"`, `topics`, `consent_text`), `chatFirstReplySecs` its posted chat
 * promise, `fakeNow` an RFC 3339 instant the server's clock starts at, `topLevel` extra top-level
 * TOML (tables such as `[smtp]`).
 */
export async function startServer({
  dir,
  hostOrigin,
  site = '',
  siteKeys = '',
  chatFirstReplySecs = 240,
  fakeNow,
  db: dbPath,
  writesPerMinute = 1000,
  listen = '127.0.0.1:0',
  topLevel = '',
}) {
  const config = join(dir, 'porchlight.toml');
  writeFileSync(
    config,
    `operator_token = "${OPERATOR_TOKEN}"
${topLevel}

[rate_limit]
writes_per_minute = ${writesPerMinute}

[[sites]]
id = "e2e"
name = "E2E Shop"
origins = ["${hostOrigin}"]
# The offline page points its widget at a port nobody listens on.
endpoints = ["http://127.0.0.1:9"]
timezone = "Europe/Riga"
greeting = "Hi! How can we help?"
${siteKeys}
[sites.promises]
chat_first_reply_secs = ${chatFirstReplySecs}
callback_business_hours = 2
message_reply_business_days = 1
${site}
`,
  );
  const db = dbPath || join(dir, 'e2e.db');
  const args = ['serve', '--config', config, '--db', db, '--listen', listen, '--assets', ASSETS];
  if (fakeNow) args.push('--fake-now', fakeNow);
  const child = spawn(BIN, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'warn' },
  });
  let log = '';
  child.stderr.on('data', (d) => (log += d));
  const origin = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}\n${log}`)), 20000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/\S+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}:\n${out}\n${log}`)));
  });
  return { child, origin, db, log: () => log };
}

/** Everything one test file needs; call `stop()` in `after`. Options go to `startServer`. */
export async function startStack(options = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'porchlight-e2e-'));
  let resolveWidget;
  const widgetOrigin = new Promise((r) => (resolveWidget = r));
  const host = await startHost(widgetOrigin);
  let server = await startServer({ ...options, dir, hostOrigin: host.origin });
  resolveWidget(server.origin);
  const stopServer = async () => {
    server.child.kill('SIGTERM');
    if (server.child.exitCode === null) await new Promise((r) => server.child.once('exit', r));
  };
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  return {
    dir,
    host: host.origin,
    widget: server.origin,
    db: server.db,
    browser,
    serverLog: () => server.log(),
    /**
     * Stops the server gracefully (SIGTERM), runs `whileDown`, and starts it again on the same
     * address and SQLite file, as an operator restarting it would.
     */
    async restartServer(whileDown = async () => {}) {
      await stopServer();
      await whileDown();
      server = await startServer({ ...options, dir, hostOrigin: host.origin, db: server.db, listen: new URL(server.origin).host });
    },
    /** Rows of a query against the server's SQLite file (read through python3's sqlite3). */
    query(sql) {
      const out = execFileSync('python3', [
        '-c',
        'import json,sqlite3,sys\nc=sqlite3.connect(sys.argv[1]);c.row_factory=sqlite3.Row\nprint(json.dumps([dict(r) for r in c.execute(sys.argv[2])]))',
        server.db,
        sql,
      ]);
      return JSON.parse(out.toString());
    },
    /** Calls the real API as an operator would (Bearer operator token). */
    async operator(method, path, body) {
      const res = await fetch(server.origin + path, {
        method,
        headers: { authorization: `Bearer ${OPERATOR_TOKEN}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    },
    async stop() {
      await browser.close().catch(() => {});
      await stopServer();
      host.server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A fresh page that records console warnings, page errors and requests. `contextOptions` go to
 * `browser.newContext` (e.g. `locale`, `colorScheme`, `reducedMotion`, `isMobile`).
 */
export async function openPage(stack, path, { viewport = { width: 1280, height: 800 }, init, contextOptions = {} } = {}) {
  const context = await stack.browser.newContext({ viewport, ...contextOptions });
  const page = await context.newPage();
  const record = { warnings: [], errors: [], requests: [] };
  page.on('console', (m) => {
    if (m.type() === 'warning' || m.type() === 'error') record.warnings.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => record.errors.push(String(e)));
  context.on('request', (r) => record.requests.push(r.url()));
  if (init) await page.addInitScript(init);
  await page.goto(stack.host + path);
  return { page, context, record };
}

/** Page object for the widget as a visitor meets it. */
export function widget(page) {
  const frame = page.frameLocator('porchlight-widget iframe');
  return {
    launcher: page.locator('porchlight-widget button'),
    iframe: page.locator('porchlight-widget iframe'),
    frame,
    byTestId: (id) => frame.locator(`[data-testid="${id}"]`),
    async open() {
      await this.launcher.click();
      await frame.locator('[data-testid="pl-panel"]').waitFor({ state: 'visible', timeout: 20000 });
      // The wait line gets its data-state once the site config (or its failure) is in: act
      // only then, as a visitor would after the panel has settled.
      await frame.locator('[data-testid="pl-wait-line"][data-state]').waitFor({ state: 'attached', timeout: 20000 });
      // And the panel has taken the loader's `open` (it moves focus into the panel).
      await frame.locator('[data-testid="pl-panel"][data-open]').waitFor({ state: 'attached', timeout: 20000 });
    },
  };
}

export const wait = (ms) => new Promise((r) => setTimeout(r, ms));

let replies = 0;
/** An operator's reply through the real console API (operator bearer token); fails unless stored. */
export async function operatorReply(stack, conversation, body) {
  replies += 1;
  const res = await stack.operator('POST', `/v1/console/conversations/${conversation}/messages`, {
    client_id: `op-${Date.now()}-${replies}`,
    body,
  });
  if (res.status !== 201) throw new Error(`the reply was not stored: ${res.status} ${JSON.stringify(res.body)}`);
}

/**
 * Polls `check` until it returns something truthy and returns that; fails after `timeout` ms.
 * Generous by default: CI shares two cores between the server, Chromium and the runner.
 */
export async function eventually(check, timeout = 15000, what = 'condition') {
  const start = Date.now();
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() - start > timeout) throw new Error(`${what} not met within ${timeout} ms`);
    await wait(50);
  }
}

const AXE_SOURCE = readFileSync(join(here, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

/**
 * axe-core's violations (as `rule: targets` lines) in a page or frame, over `context` (default:
 * the whole document). Injected through the DevTools protocol, which no page CSP governs.
 */
export async function axeViolations(target, context = 'document') {
  return target.evaluate(`(async () => {
    if (!window.axe) { ${AXE_SOURCE}\n }
    const r = await axe.run(${context}, { resultTypes: ['violations'] });
    return r.violations.map((v) => v.id + ': ' + v.nodes.map((n) => JSON.stringify(n.target)).join(', '));
  })()`);
}

export { readFileSync };
