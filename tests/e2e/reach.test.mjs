// Every visitor (issue #7): the widget in each language (right to left for Arabic), axe-core in
// every state, keyboard only, phones, and the site's theme. Real server, real Chromium.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startStack, openPage, widget, eventually, axeViolations } from './harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const bundle = (tag) => JSON.parse(readFileSync(join(here, '..', '..', 'src', 'i18n', `${tag}.json`), 'utf8'));
const LANGUAGES = ['en', 'lv', 'th', 'it', 'eo', 'el', 'ar'];

let stack;
before(async () => {
  // Open, someone online, a consent text and topics (so every part of the form is drawn), and
  // a light brand colour whose text must turn dark to stay readable.
  stack = await startStack({
    fakeNow: '2026-03-10T10:00:00+02:00',
    siteKeys: `presence_default = "online"
topics = ["Orders", "Billing"]
consent_text = "You may call me about this request."`,
    site: `[sites.theme]
color = "#fbbf24"
[sites.texts.lv]
greeting = "Sveiki! Kā varam palīdzēt?"
topics = ["Pasūtījumi", "Rēķini"]
consent_text = "Jūs drīkstat man zvanīt par šo pieprasījumu."
`,
  });
});
after(async () => {
  await stack?.stop();
});

function frameOf(page) {
  return page.frames().find((f) => f.url().includes('/frame?'));
}

/** axe-core's violations inside the widget frame (injected through the DevTools protocol, which
 * the frame's CSP does not govern). */
async function axeFrame(page, state) {
  assert.deepEqual(await axeViolations(frameOf(page)), [], `axe violations in state "${state}"`);
  return state;
}

/** axe on the host page, limited to the widget's own element (the launcher in its shadow root). */
async function axeLauncher(page) {
  const violations = await axeViolations(page, "{ include: [['porchlight-widget']] }");
  assert.deepEqual(violations, [], 'axe violations on the launcher');
}

async function openIn(path, options = {}) {
  const { page, context } = await openPage(stack, path, options);
  const w = widget(page);
  await w.open();
  return { page, context, w };
}

for (const tag of LANGUAGES) {
  test(`${tag}: the frame speaks the language, launcher included`, async () => {
    const strings = bundle(tag);
    const { page, context, w } = await openIn(`/lang?html=en&data=${tag}`);
    const frame = frameOf(page);
    assert.equal(await frame.evaluate(() => document.documentElement.lang), tag);
    assert.equal(await frame.evaluate(() => document.documentElement.dir), tag === 'ar' ? 'rtl' : 'ltr');
    assert.equal(await w.byTestId('pl-tab-chat').innerText(), strings.TabChat);
    assert.equal(await w.byTestId('pl-tab-callback').innerText(), strings.TabCallback);
    assert.equal(await w.byTestId('pl-tab-rating').innerText(), strings.TabRating);
    // The launcher's text and name come from the frame once it is up.
    await eventually(async () => (await w.launcher.innerText()).includes(strings.LauncherText), 10000, 'launcher text');
    const label = await w.launcher.getAttribute('aria-label');
    assert.ok([strings.LauncherOnline, strings.LauncherBusy, strings.LauncherOffline, strings.LauncherLabel].includes(label), label);
    // The wait line is a sentence of this language (not a key name, not English unless English).
    const waitLine = await w.byTestId('pl-wait-line').innerText();
    assert.ok(waitLine.length > 5 && !/^Wait[A-Z]/.test(waitLine), waitLine);
    if (tag !== 'en') assert.ok(!waitLine.includes('Typically replies'), waitLine);
    await context.close();
  });
}

test('language choice: data-locale, else <html lang>, else the browser, else English', async () => {
  const cases = [
    ['/lang?html=lv&data=it', {}, 'it'],
    ['/lang?html=lv', {}, 'lv'],
    ['/lang?html=fr-FR', { locale: 'el-GR' }, 'el'],
    ['/lang', { locale: 'th-TH' }, 'th'],
    ['/lang?html=fr&data=de', { locale: 'pt-BR' }, 'en'],
  ];
  for (const [path, contextOptions, expected] of cases) {
    const { page, context } = await openIn(path, { contextOptions });
    assert.equal(await frameOf(page).evaluate(() => document.documentElement.lang), expected, path);
    await context.close();
  }
});

test('Arabic mirrors the panel: the close button sits on the left of the title', async () => {
  const { page, context, w } = await openIn('/lang?data=ar');
  const title = await w.frame.locator('#pl-title').boundingBox();
  const close = await w.byTestId('pl-close').boundingBox();
  assert.ok(close.x < title.x, `close at ${close.x}, title at ${title.x}`);
  // Counts use Arabic plural forms and digits from Intl (the posted wait: 4 minutes).
  const waitLine = await w.byTestId('pl-wait-line').innerText();
  assert.ok(/[٠-٩]|دقائق|دقيقة/.test(waitLine), waitLine);
  await context.close();
});

test('site texts follow the language: Latvian greeting and topic labels, values still submitted', async () => {
  const { page, context, w } = await openIn('/lang?data=lv');
  await eventually(async () => (await w.frame.locator('body').innerText()).includes('Sveiki! Kā varam palīdzēt?'), 10000, 'greeting');
  await w.byTestId('pl-tab-callback').click();
  const body = await w.frame.locator('body').innerText();
  assert.ok(body.includes('Jūs drīkstat man zvanīt'), 'consent text in Latvian');
  const options = await w.byTestId('pl-cb-topic').locator('option').evaluateAll((os) => os.map((o) => [o.value, o.textContent]));
  assert.deepEqual(options.slice(1), [['Orders', 'Pasūtījumi'], ['Billing', 'Rēķini']]);
  // Submitting a translated topic stores the site's value.
  await w.byTestId('pl-cb-name').fill('Jānis');
  await w.byTestId('pl-cb-phone').fill('+371 2000 0001');
  await w.byTestId('pl-cb-topic').selectOption('Billing');
  await w.byTestId('pl-cb-consent').check();
  await w.byTestId('pl-cb-submit').click();
  await w.byTestId('pl-cb-confirmation').waitFor({ state: 'visible', timeout: 15000 });
  await eventually(() => stack.query(`select 1 from callbacks where topic = 'Billing'`).length === 1, 10000, 'callback row with the site value');
  await context.close();
});

for (const tag of ['en', 'ar']) {
  test(`${tag}: axe-core finds no violations in any state`, async () => {
    const { page, context } = await openPage(stack, `/lang?html=${tag}`);
    const w = widget(page);
    await w.launcher.waitFor({ state: 'visible' });
    await axeLauncher(page);
    await w.open();
    const states = [];
    states.push(await axeFrame(page, 'panel, chat tab'));

    await w.byTestId('pl-tab-callback').click();
    states.push(await axeFrame(page, 'callback form'));
    await w.byTestId('pl-cb-submit').click();
    await w.frame.locator('[aria-invalid="true"]').first().waitFor({ state: 'visible' });
    states.push(await axeFrame(page, 'callback form with field errors'));

    await w.byTestId('pl-tab-rating').click();
    states.push(await axeFrame(page, 'rating'));
    await w.byTestId('pl-rating-bad').check();
    await w.byTestId('pl-rating-recovery').waitFor({ state: 'visible' });
    states.push(await axeFrame(page, 'rating recorded, recovery offer'));

    await w.byTestId('pl-tab-chat').click();
    await w.byTestId('pl-chat-input').fill('Hello, <b>is anyone there?</b>');
    await w.byTestId('pl-chat-send').click();
    await w.byTestId('pl-chat-message').first().waitFor({ state: 'visible' });
    states.push(await axeFrame(page, 'chat with a message'));

    await w.byTestId('pl-tab-callback').click();
    await w.byTestId('pl-cb-name').fill('Anna Bērziņa');
    await w.byTestId('pl-cb-phone').fill('+371 2000 0000');
    await w.byTestId('pl-cb-consent').check();
    await w.byTestId('pl-cb-submit').click();
    await w.byTestId('pl-cb-confirmation').waitFor({ state: 'visible', timeout: 15000 });
    states.push(await axeFrame(page, 'callback confirmation'));
    await context.close();

    // Offline: the endpoint cannot be reached.
    const offline = await openPage(stack, '/offline');
    const wo = widget(offline.page);
    await wo.open();
    await wo.byTestId('pl-offline').waitFor({ state: 'visible' });
    states.push(await axeFrame(offline.page, 'offline banner'));
    await offline.context.close();

    // Dark scheme, with the site's brand colour.
    const dark = await openIn(`/lang?html=${tag}`, { contextOptions: { colorScheme: 'dark' } });
    states.push(await axeFrame(dark.page, 'dark scheme'));
    await dark.context.close();
    console.log(`axe ${tag}: 0 violations in ${states.length + 1} states: launcher, ${states.join(', ')}`);
  });
}

test('keyboard only: reach the launcher, open, switch tabs with arrows, rate, Esc returns focus', async () => {
  const { page, context } = await openPage(stack, '/plain');
  const w = widget(page);
  await w.launcher.waitFor({ state: 'visible' });
  await page.focus('#host-button');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.tagName), 'PORCHLIGHT-WIDGET');
  await page.keyboard.press('Enter');
  await w.frame.locator('[data-testid="pl-wait-line"][data-state]').waitFor({ state: 'attached', timeout: 20000 });
  // Focus is inside the panel.
  await eventually(() => frameOf(page).evaluate(() => document.hasFocus() && document.activeElement !== document.body), 5000, 'focus in panel');
  // Tab to the tab list, arrows move between tabs.
  await w.byTestId('pl-tab-chat').focus();
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  assert.equal(await w.byTestId('pl-tab-rating').getAttribute('aria-selected'), 'true');
  // Into the rating group and choose with arrows.
  await page.keyboard.press('Tab');
  await page.keyboard.press('ArrowRight');
  await w.byTestId('pl-rating-thanks').waitFor({ state: 'visible' });
  // Every focused control shows a visible focus ring.
  const ring = await frameOf(page).evaluate(() => {
    const s = getComputedStyle(document.activeElement);
    const card = document.activeElement.nextElementSibling;
    const c = card ? getComputedStyle(card) : s;
    return s.outlineStyle !== 'none' || c.outlineStyle !== 'none';
  });
  assert.ok(ring, 'focus ring visible');
  await page.keyboard.press('Escape');
  await eventually(() => w.iframe.isHidden(), 5000, 'panel closed');
  assert.equal(await page.evaluate(() => document.activeElement?.shadowRoot?.activeElement?.tagName), 'BUTTON');
  await context.close();
});

for (const viewport of [{ width: 360, height: 640 }, { width: 390, height: 844 }]) {
  test(`phone ${viewport.width}×${viewport.height}: full screen, 16 px inputs, 44 px targets, host scroll untouched`, async () => {
    const { page, context } = await openPage(stack, '/lang?html=en', { viewport, contextOptions: { isMobile: true, hasTouch: true } });
    const w = widget(page);
    await page.evaluate(() => window.scrollTo(0, 500));
    const before = await page.evaluate(() => [window.scrollY, getComputedStyle(document.documentElement).overflow, getComputedStyle(document.body).overflow]);
    await w.open();
    const box = await w.iframe.boundingBox();
    assert.deepEqual([box.x, box.y, box.width, box.height], [0, 0, viewport.width, viewport.height]);
    await w.byTestId('pl-tab-callback').click();
    const frame = frameOf(page);
    const small = await frame.evaluate(() =>
      [...document.querySelectorAll('input:not([type=checkbox]):not([type=radio]):not([tabindex="-1"]), textarea, select')]
        .filter((e) => e.offsetParent !== null)
        .filter((e) => parseFloat(getComputedStyle(e).fontSize) < 16)
        .map((e) => e.outerHTML.slice(0, 80)),
    );
    assert.deepEqual(small, [], 'inputs under 16 px make iOS zoom');
    for (const tab of ['pl-tab-chat', 'pl-tab-callback', 'pl-tab-rating']) {
      await w.byTestId(tab).click();
      const tiny = await frame.evaluate(() =>
        [...document.querySelectorAll('button, a[href], input, select, textarea, label.pl-face-card, [role=tab]')]
          .filter((e) => e.offsetParent !== null && !e.closest('.pl-hp'))
          .filter((e) => !['checkbox', 'radio'].includes(e.type))
          .map((e) => [e, e.getBoundingClientRect()])
          .filter(([, r]) => r.width < 44 || r.height < 44)
          .map(([e, r]) => `${e.tagName.toLowerCase()}.${e.className} ${Math.round(r.width)}×${Math.round(r.height)}`),
      );
      assert.deepEqual(tiny, [], `targets under 44×44 px on ${tab}`);
    }
    await w.byTestId('pl-close').click();
    const afterClose = await page.evaluate(() => [window.scrollY, getComputedStyle(document.documentElement).overflow, getComputedStyle(document.body).overflow]);
    assert.deepEqual(afterClose, before, 'the host page scroll is neither locked nor moved');
    await context.close();
  });
}

test('phone: the open panel follows the visual viewport, so the message box stays in view (on-screen keyboard)', async () => {
  const viewport = { width: 390, height: 844 };
  const { page, context } = await openPage(stack, '/lang?html=en', { viewport, contextOptions: { isMobile: true, hasTouch: true } });
  const w = widget(page);
  await w.open();
  const panel = () =>
    page.evaluate(() => {
      const r = document.querySelector('porchlight-widget').shadowRoot.querySelector('iframe').getBoundingClientRect();
      const vv = window.visualViewport;
      return { top: r.top, height: r.height, vvTop: vv.offsetTop, vvHeight: vv.height };
    });
  const full = await panel();
  assert.deepEqual([full.top, full.height], [0, viewport.height]);

  // An on-screen keyboard shrinks only the visual viewport; zooming the page (DevTools
  // protocol page scale) does the same in a way headless Chromium can drive.
  const cdp = await context.newCDPSession(page);
  await cdp.send('Emulation.setPageScaleFactor', { pageScaleFactor: 2 });
  await eventually(async () => (await panel()).vvHeight < viewport.height * 0.75, 10000, 'the visual viewport shrank');
  await eventually(async () => {
    const p = await panel();
    return Math.abs(p.height - p.vvHeight) < 1 && Math.abs(p.top - p.vvTop) < 1;
  }, 5000, 'the panel matches the visual viewport');
  // Inside, the message box is within the frame's (now smaller) viewport.
  const frame = frameOf(page);
  const inside = await frame.evaluate(() => {
    const r = document.querySelector('[data-testid="pl-chat-input"]').getBoundingClientRect();
    return { top: r.top, bottom: r.bottom, height: window.innerHeight };
  });
  assert.ok(inside.top >= 0 && inside.bottom <= inside.height, `message box in view: ${JSON.stringify(inside)}`);

  // Closed, the panel forgets the size, and the host page's zoom is left as it is.
  await w.byTestId('pl-close').click();
  assert.ok((await panel()).vvHeight < viewport.height * 0.75, 'the host zoom is untouched');
  await context.close();
});

test('theme: the brand colour with an automatically readable text colour, on launcher and panel', async () => {
  const { page, context, w } = await openIn('/lang?html=en');
  // #fbbf24 is light: the text on it must be black (white would be 1.7:1).
  await eventually(async () => {
    const [bg, fg] = await w.launcher.evaluate((b) => [getComputedStyle(b).backgroundColor, getComputedStyle(b).color]);
    return bg === 'rgb(251, 191, 36)' && fg === 'rgb(0, 0, 0)';
  }, 10000, 'launcher in brand colours');
  const [bg, fg] = await w.frame.locator('.pl-header').evaluate((h) => [getComputedStyle(h).backgroundColor, getComputedStyle(h).color]);
  assert.deepEqual([bg, fg], ['rgb(251, 191, 36)', 'rgb(0, 0, 0)']);
  await context.close();
});

test('reduced motion: no transitions', async () => {
  const { page, context, w } = await openIn('/lang?html=en', { contextOptions: { reducedMotion: 'reduce' } });
  const durations = await frameOf(page).evaluate(() =>
    [...document.querySelectorAll('button')].map((b) => getComputedStyle(b).transitionDuration).filter((d) => d !== '0s'),
  );
  assert.deepEqual(durations, []);
  await w.byTestId('pl-close').click();
  await context.close();
});
