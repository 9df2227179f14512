// The embed contract: one script tag on a page of another origin, under a strict CSP and
// hostile CSS, on a phone; what the loader may and may not do to the host page.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, openPage, widget, wait, eventually } from './harness.mjs';

let stack;
before(async () => {
  stack = await startStack();
});
after(async () => {
  await stack?.stop();
});

const isWasm = (url) => url.endsWith('.wasm');
const isFrame = (url) => url.includes('/frame?');

// Runs in every document (host and frame) before its scripts: records CSP violations.
const recordViolations = () => {
  window.__violations = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`);
  });
};

test('the launcher is visible at once, and nothing heavy loads before intent on a save-data connection', async () => {
  const { page, context, record } = await openPage(stack, '/plain', {
    init: () => Object.defineProperty(navigator, 'connection', { value: { saveData: true } }),
  });
  const w = widget(page);
  await w.launcher.waitFor({ state: 'visible' });
  await page.waitForLoadState('load');
  await wait(1500); // the page is idle; on save-data only intent may load the frame
  assert.equal(record.requests.filter(isWasm).length, 0, 'no WASM before intent');
  assert.equal(record.requests.filter(isFrame).length, 0, 'no frame before intent');
  const storage = await page.evaluate(() => ({ local: localStorage.length, session: sessionStorage.length, cookie: document.cookie }));
  assert.deepEqual(storage, { local: 0, session: 0, cookie: '' });

  await w.launcher.hover(); // intent
  await page.waitForRequest((r) => isWasm(r.url()), { timeout: 15000 });
  assert.ok(record.requests.some(isFrame));
  assert.deepEqual(record.errors, []);
  await context.close();
});

test('without save-data the frame preloads once the page is idle after load', async () => {
  const { page, context } = await openPage(stack, '/plain');
  await page.waitForRequest((r) => isWasm(r.url()), { timeout: 15000 });
  await context.close();
});

test('the only global added to the host page is window.Porchlight, and no styles are added to it', async () => {
  const { page, context } = await openPage(stack, '/plain', {
    init: () => {
      window.__before = Object.getOwnPropertyNames(window);
    },
  });
  const w = widget(page);
  await w.open();
  const added = await page.evaluate(() =>
    Object.getOwnPropertyNames(window).filter((n) => !window.__before.includes(n) && n !== '__before'),
  );
  assert.deepEqual(added, ['Porchlight']);
  const styles = await page.evaluate(() => ({ sheets: document.styleSheets.length, adopted: document.adoptedStyleSheets.length }));
  assert.deepEqual(styles, { sheets: 0, adopted: 0 }, 'the host document gets no stylesheet from us');
  await context.close();
});

test('opening moves focus into the panel; Esc closes it and focus returns to the launcher', async () => {
  const { page, context } = await openPage(stack, '/plain');
  const w = widget(page);
  await w.launcher.focus();
  await page.keyboard.press('Enter');
  const panel = w.byTestId('pl-panel');
  await panel.waitFor({ state: 'visible', timeout: 20000 });
  await page.waitForFunction(() => true);
  await eventually(async () => panel.evaluate((el) => document.hasFocus() && el.contains(document.activeElement)));
  assert.equal(await w.launcher.getAttribute('aria-expanded'), 'true');

  await page.keyboard.press('Escape');
  await w.iframe.waitFor({ state: 'hidden' });
  const focused = await page.evaluate(() => document.querySelector('porchlight-widget').shadowRoot.activeElement?.tagName);
  assert.equal(focused, 'BUTTON');
  assert.equal(await w.launcher.getAttribute('aria-expanded'), 'false');

  // The close button does the same.
  await page.keyboard.press('Enter');
  await panel.waitFor({ state: 'visible' });
  await w.byTestId('pl-close').click();
  await w.iframe.waitFor({ state: 'hidden' });
  await context.close();
});

test('a strict-CSP host page: zero securitypolicyviolation events in the page and in the frame', async () => {
  const context = await stack.browser.newContext();
  await context.addInitScript(recordViolations);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${stack.host}/csp`);
  const w = widget(page);
  await w.open();
  await w.byTestId('pl-tab-rating').click();
  await w.byTestId('pl-rating-good').check();
  await w.byTestId('pl-rating-thanks').waitFor({ state: 'visible' });
  const frame = page.frames().find((f) => f.url().includes('/frame?'));
  assert.ok(frame, 'the frame is there');
  assert.deepEqual(await page.evaluate(() => window.__violations), [], 'host page violations');
  assert.deepEqual(await frame.evaluate(() => window.__violations), [], 'frame violations');
  assert.deepEqual(errors, []);
  await context.close();
});

test('hostile host CSS does not break the launcher or the panel, and the overlay stays beneath', async () => {
  const { page, context, record } = await openPage(stack, '/hostile');
  const w = widget(page);
  await w.launcher.waitFor({ state: 'visible' });
  const box = await w.launcher.boundingBox();
  assert.ok(box.width >= 44 && box.height >= 44, `launcher is a real target: ${JSON.stringify(box)}`);
  const onTop = await page.evaluate(([x, y]) => document.elementFromPoint(x, y)?.tagName, [box.x + box.width / 2, box.y + box.height / 2]);
  assert.equal(onTop, 'PORCHLIGHT-WIDGET', 'the launcher is above the full-page overlay');
  await w.open();
  const panelBox = await w.iframe.boundingBox();
  assert.ok(panelBox.width >= 300 && panelBox.height >= 400, `panel is drawn: ${JSON.stringify(panelBox)}`);
  await w.byTestId('pl-tab-rating').click();
  await w.byTestId('pl-rating-neutral').check();
  await w.byTestId('pl-rating-thanks').waitFor({ state: 'visible' });
  // Our CSS never reaches the host: its own button keeps the host's styles.
  const hostButton = await page.evaluate(() => getComputedStyle(document.getElementById('host-button')).display);
  assert.equal(hostButton, 'inline-block');
  assert.equal(await page.evaluate(() => document.styleSheets.length), 1, 'only the host stylesheet');
  assert.deepEqual(record.errors, []);
  await context.close();
});

test('desktop panel is about 380x600 bottom-right; data-position="left" puts it bottom-left', async () => {
  const { page, context } = await openPage(stack, '/plain');
  const w = widget(page);
  await w.open();
  const box = await w.iframe.boundingBox();
  assert.equal(Math.round(box.width), 380);
  assert.equal(Math.round(box.height), 600);
  assert.ok(box.x + box.width > 1280 - 40, 'anchored right');
  await context.close();

  const left = await openPage(stack, '/left');
  const lw = widget(left.page);
  await lw.open();
  const leftBox = await lw.iframe.boundingBox();
  assert.ok(leftBox.x < 40, 'anchored left');
  await left.context.close();
});

test('the host page restyles the launcher and its icon through ::part(launcher) and ::part(icon) only', async () => {
  const shapes = async (path) => {
    const { page, context } = await openPage(stack, path);
    await widget(page).launcher.waitFor({ state: 'visible' });
    const shape = await page.evaluate(() => {
      const launcher = document.querySelector('porchlight-widget').shadowRoot.querySelector('button');
      const icon = launcher.querySelector('[part=icon]');
      return { radius: getComputedStyle(launcher).borderTopLeftRadius, clip: getComputedStyle(icon).clipPath };
    });
    await context.close();
    return shape;
  };
  const plain = await shapes('/plain');
  assert.equal(plain.radius, '28px');
  assert.match(plain.clip, /^path\(/, 'the speech bubble by default');
  const restyled = await shapes('/parts');
  assert.equal(restyled.radius, '4px');
  assert.match(restyled.clip, /^circle\(50%/, "the host's own icon shape");
});

test('on a 360x640 phone the panel is full screen and the host page still scrolls', async () => {
  const { page, context } = await openPage(stack, '/plain', { viewport: { width: 360, height: 640 } });
  const w = widget(page);
  await w.open();
  const box = await w.iframe.boundingBox();
  assert.deepEqual([box.x, box.y, box.width, box.height].map(Math.round), [0, 0, 360, 640]);
  const overflow = await page.evaluate(() => [getComputedStyle(document.body).overflow, getComputedStyle(document.documentElement).overflow]);
  assert.deepEqual(overflow, ['visible', 'visible'], 'host scrolling is not locked');
  await context.close();
});

test('missing data-site: one console warning, no launcher, no exception in the host page', async () => {
  const { page, context, record } = await openPage(stack, '/nosite');
  await page.waitForLoadState('load');
  await wait(300);
  assert.equal(await page.locator('porchlight-widget').count(), 0);
  const ours = record.warnings.filter((w) => w.includes('Porchlight'));
  assert.equal(ours.length, 1, record.warnings.join('\n'));
  assert.match(ours[0], /data-site/);
  assert.deepEqual(record.errors, []);
  await context.close();
});

test('calls queued before the loader are replayed; host listeners get rating events; forged messages are ignored', async () => {
  const { page, context } = await openPage(stack, '/queue');
  const w = widget(page);
  await w.byTestId('pl-panel').waitFor({ state: 'visible', timeout: 20000 }); // Porchlight('open') was queued
  // A message that does not come from our frame must be ignored, even in our envelope.
  await page.evaluate(() => window.postMessage({ porchlight: 1, type: 'event', name: 'rating', detail: { value: 'forged' } }, '*'));
  await w.byTestId('pl-tab-rating').click();
  await w.byTestId('pl-rating-good').check();
  await w.byTestId('pl-rating-thanks').waitFor({ state: 'visible' });
  await eventually(async () => (await page.evaluate(() => window.__events)).some((e) => e[0] === 'rating'));
  const events = await page.evaluate(() => window.__events);
  const ratings = events.filter((e) => e[0] === 'rating');
  assert.equal(ratings.length, 1, JSON.stringify(events));
  assert.equal(ratings[0][1].value, 'good');
  assert.ok(events.some((e) => e[0] === 'open'));
  await context.close();
});

