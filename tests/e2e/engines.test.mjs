// The core journeys in the other engines visitors use: Firefox (Debian's firefox-esr, driven
// over WebDriver BiDi by puppeteer-core) and WebKit (WebKitGTK's MiniBrowser, driven over
// WebDriver by selenium-webdriver, under xvfb-run). The same assertions as the Chromium suite:
// the launcher on a strict-CSP host page, open, Esc, a chat with a live operator reply that
// resumes after the server restarts (the stream is cut), a rating, a callback refused with a
// field error and then stored; rows read back from SQLite, CSP violations where the engine
// reports them (both do: `securitypolicyviolation` on the host page).

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, connect } from 'node:net';
import puppeteer from 'puppeteer-core';
import { Builder, By, Key, until } from 'selenium-webdriver';
import { startStack, eventually, wait, operatorReply } from './harness.mjs';

const TIMEOUT = 20000;
const sel = (testid) => `[data-testid="${testid}"]`;

let stack;
before(async () => {
  stack = await startStack({ siteKeys: 'presence_default = "online"' });
});
after(async () => {
  await stack?.stop();
});

/** Firefox over WebDriver BiDi: each visitor gets a fresh browser context. */
async function firefox() {
  const browser = await puppeteer.launch({ browser: 'firefox', executablePath: '/usr/bin/firefox-esr', headless: true });
  return {
    name: 'Firefox',
    version: await browser.version(),
    async visitor() {
      const context = await browser.createBrowserContext();
      const page = await context.newPage();
      await page.setViewport({ width: 1280, height: 800 });
      const errors = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      const frame = async () => {
        const found = await eventually(() => page.frames().find((f) => f.url().includes('/frame')), TIMEOUT, 'the widget frame');
        return found;
      };
      const element = async (testid) => (await frame()).waitForSelector(sel(testid), { visible: true, timeout: TIMEOUT });
      return {
        errors,
        goto: (url) => page.goto(url),
        host: (expression) => page.evaluate(expression),
        async clickLauncher() {
          await (await page.waitForSelector('porchlight-widget >>> button', { visible: true, timeout: TIMEOUT })).click();
        },
        click: async (testid) => (await element(testid)).click(),
        async type(testid, text) {
          const el = await element(testid);
          await el.click();
          await el.type(text);
        },
        text: async (testid) => (await element(testid)).evaluate((e) => e.innerText),
        frameEval: async (expression) => (await frame()).evaluate(expression),
        key: (name) => page.keyboard.press(name),
        close: () => context.close(),
      };
    },
    close: () => browser.close(),
  };
}

async function freePort() {
  const server = createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

/** WebKit: WebKitWebDriver starts a MiniBrowser per session, on a virtual display. */
async function webkit() {
  const port = await freePort();
  const driverProcess = spawn('xvfb-run', ['-a', '/usr/bin/WebKitWebDriver', `--port=${port}`], {
    detached: true,
    stdio: 'ignore',
  });
  await eventually(
    () => new Promise((r) => connect(port, '127.0.0.1').on('connect', function () { this.end(); r(true); }).on('error', () => r(false))),
    TIMEOUT,
    'WebKitWebDriver listening',
  );
  const capabilities = {
    browserName: 'MiniBrowser',
    'webkitgtk:browserOptions': {
      binary: '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser',
      args: ['--automation'],
    },
  };
  return {
    name: 'WebKit',
    version: 'WebKitGTK',
    async visitor() {
      const driver = await new Builder().usingServer(`http://127.0.0.1:${port}`).withCapabilities(capabilities).build();
      await driver.manage().window().setRect({ width: 1280, height: 800 });
      // Every frame call switches into the widget's frame (inside the launcher's shadow root)
      // and back out.
      const inFrame = async (work) => {
        const host = await driver.wait(until.elementLocated(By.css('porchlight-widget')), TIMEOUT);
        const root = await host.getShadowRoot();
        const iframe = await eventually(async () => (await root.findElements(By.css('iframe')))[0], TIMEOUT, 'the widget frame');
        await driver.switchTo().frame(iframe);
        try {
          return await work();
        } finally {
          await driver.switchTo().defaultContent();
        }
      };
      // A control drawn by its label (the rating's radio buttons) is clicked through the label,
      // as a visitor does; anything else must be visible.
      const element = async (testid) => {
        const el = await driver.wait(until.elementLocated(By.css(sel(testid))), TIMEOUT);
        const label = await driver.executeScript(
          `const e = arguments[0];
           const drawn = e.offsetWidth && getComputedStyle(e).opacity !== '0';
           return e.labels && e.labels.length && !drawn ? e.labels[0] : null;`,
          el,
        );
        const target = label || el;
        await driver.wait(until.elementIsVisible(target), TIMEOUT);
        return target;
      };
      return {
        errors: [],
        goto: (url) => driver.get(url),
        host: (expression) => driver.executeScript(`return (${expression});`),
        async clickLauncher() {
          const host = await driver.wait(until.elementLocated(By.css('porchlight-widget')), TIMEOUT);
          const button = await eventually(async () => (await (await host.getShadowRoot()).findElements(By.css('button')))[0], TIMEOUT, 'the launcher');
          await button.click();
        },
        click: (testid) => inFrame(async () => (await element(testid)).click()),
        type: (testid, text) => inFrame(async () => (await element(testid)).sendKeys(text)),
        text: (testid) => inFrame(async () => (await element(testid)).getText()),
        frameEval: (expression) => inFrame(() => driver.executeScript(`return (${expression});`)),
        key: (name) => inFrame(() => driver.actions().sendKeys(Key[name.toUpperCase()]).perform()),
        close: () => driver.quit(),
      };
    },
    close: async () => {
      try {
        process.kill(-driverProcess.pid);
      } catch {}
    },
  };
}

/** Runs `journey` with a fresh visitor's browser, closed afterwards whatever happens. */
async function asVisitor(engine, journey) {
  const v = await engine.visitor();
  try {
    await journey(v);
  } finally {
    await v.close().catch(() => {});
  }
}

function latestConversation() {
  return stack.query('select id from conversations order by created_ms desc, rowid desc limit 1')[0].id;
}

const operatorSays = (conversation, body) => operatorReply(stack, conversation, body);

/** The chat's messages as shown, in order. */
const SHOWN = `[...document.querySelectorAll('[data-testid="pl-chat-message"] .pl-msg-body')].map((e) => e.textContent.replace(/^Reply:\\s*/, '').trim())`;

async function shows(v, expected, timeout = 30000) {
  let last = [];
  await eventually(async () => {
    last = await v.frameEval(SHOWN);
    return JSON.stringify(last) === JSON.stringify(expected);
  }, timeout, `shown ${JSON.stringify(expected)}`).catch(() => assert.deepEqual(last, expected));
}

/** Opens the panel from the launcher, as a visitor does, and waits until it has settled. */
async function openPanel(v) {
  await v.clickLauncher();
  await v.text('pl-panel');
  await eventually(() => v.frameEval(`!!document.querySelector('[data-testid="pl-panel"][data-open]') && !!document.querySelector('[data-testid="pl-wait-line"][data-state]')`), TIMEOUT, 'the panel settled');
}

for (const launch of [firefox, webkit]) {
  describe(launch.name, () => {
    let engine;
    before(async () => {
      engine = await launch();
    });
    after(async () => {
      await engine?.close();
    });

    test('the launcher on a strict-CSP host page opens the panel; Esc closes it and gives focus back', async () => {
      await asVisitor(engine, async (v) => {
      await v.goto(`${stack.host}/csp`);
      await openPanel(v);
      assert.equal(await v.host(`document.querySelector('porchlight-widget').shadowRoot.querySelector('button').getAttribute('aria-expanded')`), 'true');
      await v.key('Escape');
      await eventually(
        () => v.host(`document.querySelector('porchlight-widget').shadowRoot.querySelector('button').getAttribute('aria-expanded') === 'false'`),
        TIMEOUT,
        'closed by Esc',
      );
      assert.equal(await v.host(`document.querySelector('porchlight-widget').shadowRoot.activeElement?.tagName`), 'BUTTON');
      // Only window.Porchlight, and no CSP violation on the strict host page.
      assert.equal(await v.host(`typeof window.Porchlight`), 'function');
      assert.deepEqual(await v.host(`window.__violations`), []);
      assert.deepEqual(v.errors, []);
      });
    });

    test('chat: a live operator reply, then the stream is cut (server restart) and resumes, nothing lost or twice', async () => {
      await asVisitor(engine, async (v) => {
      await v.goto(`${stack.host}/plain`);
      await openPanel(v);
      await v.click('pl-tab-chat');
      const words = `Hello from ${engine.name} ${Date.now()}`;
      await v.type('pl-chat-input', words);
      await v.click('pl-chat-send');
      await eventually(() => stack.query(`select count(*) as n from messages where body = '${words}'`)[0].n === 1, TIMEOUT, 'stored');
      const conversation = latestConversation();
      await operatorSays(conversation, `Hi ${engine.name}, live`);
      await shows(v, [words, `Hi ${engine.name}, live`]);

      await stack.restartServer(() => wait(500));
      await operatorSays(conversation, 'After the cut');
      await shows(v, [words, `Hi ${engine.name}, live`, 'After the cut']);
      await wait(1000);
      await shows(v, [words, `Hi ${engine.name}, live`, 'After the cut'], 2000);
      assert.equal(stack.query(`select count(*) as n from messages where conversation_id = '${conversation}'`)[0].n, 3);
      assert.deepEqual(v.errors, []);
      });
    });

    test('a rating in one click is stored once', async () => {
      const before = stack.query(`select count(*) as n from ratings`)[0].n;
      await asVisitor(engine, async (v) => {
      await v.goto(`${stack.host}/plain`);
      await openPanel(v);
      await v.click('pl-tab-rating');
      await v.click('pl-rating-good');
      await v.text('pl-rating-thanks');
      await eventually(() => stack.query(`select count(*) as n from ratings`)[0].n === before + 1, TIMEOUT, 'the rating stored');
      assert.equal(stack.query(`select value from ratings order by created_ms desc limit 1`)[0].value, 'good');
      });
    });

    test('a callback: a bad phone is a visible field error and stores nothing; fixed, it is stored once', async () => {
      const name = `${engine.name} caller ${Date.now()}`;
      await asVisitor(engine, async (v) => {
      await v.goto(`${stack.host}/plain`);
      await openPanel(v);
      await v.click('pl-tab-callback');
      await v.type('pl-cb-name', name);
      await v.type('pl-cb-phone', '12');
      await v.click('pl-cb-submit');
      assert.match(await v.text('pl-cb-error-phone'), /\S/);
      assert.equal(stack.query(`select count(*) as n from callbacks where name = '${name}'`)[0].n, 0);
      await v.frameEval(`(() => { const el = document.querySelector('[data-testid="pl-cb-phone"]'); el.value = ''; el.dispatchEvent(new Event('input', { bubbles: true })); })()`);
      await v.type('pl-cb-phone', '+371 2612 3456');
      await v.click('pl-cb-submit');
      await v.text('pl-cb-confirmation');
      await eventually(() => stack.query(`select count(*) as n from callbacks where name = '${name}'`)[0].n === 1, TIMEOUT, 'stored');
      assert.equal(stack.query(`select phone from callbacks where name = '${name}'`)[0].phone, '+37126123456');
      });
    });
  });
}
