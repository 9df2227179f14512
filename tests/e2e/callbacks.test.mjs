// The callback form (issue 5, widget side): the site's consent text and topics, preferred times
// from the slots endpoint in the visitor's zone, errors next to the field, the honest time in
// the confirmation, and the follow-up status read with the receipt's token after a reload.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { startStack, widget, wait, CHROMIUM_ARGS, eventually } from './harness.mjs';

const TUESDAY_10 = '2026-03-10T10:00:00+02:00'; // Riga, within business hours
const CONSENT = 'You may call me about this request.';

let stack;
before(async () => {
  stack = await startStack({
    fakeNow: TUESDAY_10,
    siteKeys: `topics = ["Orders", "Billing"]\nconsent_text = "${CONSENT}"`,
  });
});
after(async () => {
  await browser?.close();
  await stack?.stop();
});

/**
 * A visitor whose browser lets the frame (another site than the host page) keep storage.
 * Chromium 156 with third-party-cookie deprecation denies `localStorage` to cross-site frames
 * outright; the widget then still confirms with the reference, but cannot follow up after a
 * reload. These tests run with that deprecation off, as in browsers that partition storage.
 */
let browser;
async function visitor() {
  browser ??= await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [...CHROMIUM_ARGS, '--disable-features=TrackingProtection3pcd,ThirdPartyCookieDeprecation'],
  });
  const context = await browser.newContext({ timezoneId: 'Europe/Riga', locale: 'en-GB' });
  return { context, close: () => context.close() };
}


test('fill, consent, pick a slot, submit, confirmation; the operator schedules it; after a reload the visitor sees it', async () => {
  const { context, close } = await visitor();
  await context.clock.install({ time: new Date(TUESDAY_10) });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${stack.host}/plain`);
  const w = widget(page);
  await w.open();
  await w.byTestId('pl-tab-callback').click();

  // The site's topics and consent text; inputs a phone keyboard and autofill understand.
  const topics = await w.byTestId('pl-cb-topic').locator('option').allInnerTexts();
  assert.deepEqual(topics, ['Choose a topic (optional)', 'Orders', 'Billing']);
  assert.equal(await w.frame.locator('label[for="pl-cb-consent"]').innerText(), CONSENT);
  const phone = w.byTestId('pl-cb-phone');
  assert.deepEqual(
    [await phone.getAttribute('inputmode'), await phone.getAttribute('autocomplete'), await w.byTestId('pl-cb-name').getAttribute('autocomplete')],
    ['tel', 'tel', 'name'],
  );
  const fontSize = await phone.evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
  assert.ok(fontSize >= 16, `inputs are at least 16px (${fontSize})`);

  // Times from the slots endpoint, in the visitor's zone; "as soon as possible" says by when.
  const when = w.byTestId('pl-cb-when');
  await eventually(async () => (await when.locator('option').count()) > 1);
  const options = await when.locator('option').allInnerTexts();
  assert.equal(options[0], 'As soon as possible (by 12:00 today)');
  assert.equal(options[1], '10:30 today', 'the first slot at least 15 minutes ahead');
  assert.ok(options.includes('Wednesday at 09:00'), options.join(' | '));

  // Consent is required: the error sits next to the box, and nothing is sent.
  await w.byTestId('pl-cb-name').fill('Līga Bērziņa');
  await phone.fill('+371 2000 0000');
  await w.byTestId('pl-cb-topic').selectOption('Orders');
  await when.selectOption({ label: '10:30 today' });
  await w.byTestId('pl-cb-submit').click();
  await w.byTestId('pl-cb-error-consent').waitFor({ state: 'visible' });
  assert.equal(await w.byTestId('pl-cb-consent').getAttribute('aria-invalid'), 'true');
  assert.equal(stack.query('select count(*) as n from callbacks')[0].n, 0);

  await w.byTestId('pl-cb-consent').check();
  await w.byTestId('pl-cb-submit').click();
  const confirmation = w.byTestId('pl-cb-confirmation');
  await confirmation.waitFor({ state: 'visible' });
  const text = await confirmation.innerText();
  assert.match(text, /Thanks! We'll call you by 11:00 today\./, 'a chosen slot is due at its end');
  const reference = text.match(/PL-[A-Z0-9]{6}/)?.[0];
  assert.ok(reference, text);
  const [row] = stack.query(`select topic, status, consent_ms is not null as consented, preferred_ms from callbacks`);
  assert.deepEqual(
    { ...row, preferred_ms: new Date(row.preferred_ms).toISOString() },
    { topic: 'Orders', status: 'received', consented: 1, preferred_ms: '2026-03-10T08:30:00.000Z' },
  );

  // The frame (not the host page) keeps the reference and token.
  const frame = page.frames().find((f) => f.url().includes('/frame?'));
  const saved = await frame.evaluate(() => localStorage.getItem('porchlight.callback.e2e'));
  assert.match(saved, new RegExp(`^${reference} \\S+$`));
  assert.equal(await page.evaluate(() => localStorage.length), 0);

  // The operator schedules it; the visitor comes back.
  const path = `/v1/sites/e2e/callbacks/${reference}/status`;
  assert.equal((await stack.operator('PUT', path, { status: 'scheduled' })).status, 200);
  await page.reload();
  await w.open();
  const status = w.byTestId('pl-cb-status');
  await status.waitFor({ state: 'visible' });
  assert.equal(await status.getAttribute('data-status'), 'scheduled');
  assert.equal(await status.innerText(), `Your callback ${reference} is scheduled for 11:00 today.`);

  // Done: shown once more, then forgotten.
  assert.equal((await stack.operator('PUT', path, { status: 'done' })).status, 200);
  await page.reload();
  await w.open();
  await eventually(async () => (await status.count()) === 1 && (await status.getAttribute('data-status')) === 'done');
  assert.match(await status.innerText(), /is done/);
  await page.reload();
  await w.open();
  await wait(1000);
  assert.equal(await status.count(), 0, 'a finished request is not shown forever');
  assert.deepEqual(errors, []);
  await close();
});

test("couldn't reach you: the visitor is told and offered another callback", async () => {
  const { context, close } = await visitor();
  const page = await context.newPage();
  await page.goto(`${stack.host}/plain`);
  const w = widget(page);
  await w.open();
  await w.byTestId('pl-tab-callback').click();
  await w.byTestId('pl-cb-name').fill('Kostas');
  await w.byTestId('pl-cb-phone').fill('+30 210 1234567');
  await w.byTestId('pl-cb-consent').check();
  await w.byTestId('pl-cb-submit').click();
  const text = await w.byTestId('pl-cb-confirmation').innerText();
  const reference = text.match(/PL-[A-Z0-9]{6}/)[0];
  await stack.operator('PUT', `/v1/sites/e2e/callbacks/${reference}/status`, { status: 'unreachable' });
  await page.reload();
  await w.open();
  const status = w.byTestId('pl-cb-status');
  await status.waitFor({ state: 'visible' });
  assert.equal(await status.getAttribute('data-status'), 'unreachable');
  assert.match(await status.innerText(), /couldn't reach you/);
  await status.getByRole('button').click();
  assert.equal(await w.byTestId('pl-tab-callback').getAttribute('aria-selected'), 'true');
  await close();
});
