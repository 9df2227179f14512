// The callback form (issue 5, widget side): the site's consent text and topics, preferred times
// from the slots endpoint in the visitor's zone, errors next to the field, the honest time in
// the confirmation, and the follow-up status read with the receipt's token after a reload; a
// request made offline goes through the frame's outbox (saved, survives a reload, delivered
// once: one row, one webhook); a done callback asks for a one-click rating of the call.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { chromium } from 'playwright-core';
import { startStack, widget, wait, CHROMIUM_ARGS, eventually, axeViolations } from './harness.mjs';

const TUESDAY_10 = '2026-03-10T10:00:00+02:00'; // Riga, within business hours
const CONSENT = 'You may call me about this request.';
const WEBHOOK_SECRET = 'e2e-webhook-secret-0123456789';
/** The create endpoint only (not `callbacks/slots` or a follow-up). */
const CALLBACKS_POST = '**/v1/sites/e2e/callbacks';

/**
 * The site's webhook endpoint: every delivery whose `Porchlight-Signature` verifies is kept
 * (the server's own tests check bad signatures; here a bad one fails the test).
 */
const deliveries = [];
const badSignatures = [];
let receiver;
async function startReceiver() {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const header = req.headers['porchlight-signature'] || '';
      const t = header.match(/t=(\d+)/)?.[1];
      const v1 = header.match(/v1=([0-9a-f]+)/)?.[1] || '';
      const expected = createHmac('sha256', WEBHOOK_SECRET).update(`${t}.${body}`).digest('hex');
      if (t && v1.length === expected.length && timingSafeEqual(Buffer.from(v1), Buffer.from(expected))) {
        deliveries.push(JSON.parse(body));
      } else {
        badSignatures.push(header);
      }
      res.writeHead(200).end();
    });
  });
  await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${receiver.address().port}/hook`;
}
/** axe-core on the whole frame, in the states added here (saved, refused, done with its rating). */
async function assertAccessible(page, state) {
  const frame = page.frames().find((f) => f.url().includes('/frame?'));
  assert.deepEqual(await axeViolations(frame), [], `axe violations in state "${state}"`);
}

const delivered = (type, reference) =>
  deliveries.filter((d) => d.type === type && (d.data.reference ?? d.data.context?.ref_id) === reference);

let stack;
before(async () => {
  const hook = await startReceiver();
  stack = await startStack({
    fakeNow: TUESDAY_10,
    siteKeys: `topics = ["Orders", "Billing"]\nconsent_text = "${CONSENT}"\nwebhooks = [{ url = "${hook}", secret = "${WEBHOOK_SECRET}" }]`,
  });
});
after(async () => {
  await browser?.close();
  await stack?.stop();
  receiver?.close();
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
  const posted = page.waitForResponse((r) => r.url().endsWith('/v1/sites/e2e/callbacks') && r.request().method() === 'POST');
  await w.byTestId('pl-cb-submit').click();
  const response = await posted;
  const confirmation = w.byTestId('pl-cb-confirmation');
  await confirmation.waitFor({ state: 'visible' });
  const text = await confirmation.innerText();
  assert.match(text, /Thanks! We'll call you between 10:30 today and 11:00\./, 'a chosen slot is a window, not a deadline');
  const reference = text.match(/PL-[A-Z0-9]{6}/)?.[0];
  assert.ok(reference, text);
  // The whole journey, printed for the record: the widget's request, the server's answer, the
  // row, and the signed webhook the site's receiver verified.
  await eventually(() => delivered('callback.created', reference).length === 1, 15000, 'the webhook');
  const [webhook] = delivered('callback.created', reference);
  assert.equal(webhook.data.phone, '+37120000000', 'the receiver gets the number in E.164');
  assert.equal(webhook.data.topic, 'Orders');
  const request = response.request();
  console.log(`callback journey: ${JSON.stringify({
    request: { method: request.method(), idempotency_key: request.headers()['idempotency-key'], body: request.postDataJSON() },
    response: { status: response.status(), body: await response.json() },
    shown: text,
    row: stack.query(`select reference, status, name, phone, topic, due_ms, preferred_ms, consent_ms from callbacks where reference = '${reference}'`)[0],
    webhook,
  })}`);
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
  assert.equal(await status.locator('p').innerText(), `Your callback ${reference} is scheduled for 11:00 today.`);
  assert.equal(await w.byTestId('pl-cb-cancel').innerText(), 'Cancel this call', 'still to come: it can be called off');

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

/** A visitor on `path` at Tuesday 10:00, on the panel's Call me tab. */
async function callbackTab(path) {
  const { context, close } = await visitor();
  await context.clock.install({ time: new Date(TUESDAY_10) });
  const page = await context.newPage();
  await page.goto(`${stack.host}${path}`);
  const w = widget(page);
  await w.open();
  await w.byTestId('pl-tab-callback').click();
  return { w, close };
}

test('phone numbers as people write them are taken; each fault has its own message, in English and Latvian, and focus goes to the field', async () => {
  for (const [lang, notInUse] of [
    ['en', "That isn't a number in use. Please check it, and add the country code if it's from abroad."],
    ['lv', 'Šāds numurs netiek lietots. Lūdzu, pārbaudiet to un, ja tas ir ārzemju numurs, pievienojiet valsts kodu.'],
  ]) {
    const { w, close } = await callbackTab(`/lang?html=${lang}`);
    await w.byTestId('pl-cb-name').fill('Anna');
    await w.byTestId('pl-cb-consent').check();
    const phone = w.byTestId('pl-cb-phone');
    // Well formed, but no Latvian line starts with 1: the server says so, and the visitor
    // reads that, not "use digits only"; the phone field has focus.
    await phone.fill('+371 1234 5678');
    await w.byTestId('pl-cb-submit').click();
    const error = w.byTestId('pl-cb-error-phone');
    await error.waitFor({ state: 'visible' });
    assert.equal(await error.innerText(), notInUse);
    await eventually(() => phone.evaluate((el) => el === document.activeElement), 5000, 'focus on the phone field');
    assert.equal(stack.query("select count(*) as n from callbacks where name = 'Anna'")[0].n, 0);
    await close();
  }
  // The country code in parentheses, as printed on many cards: booked, stored in E.164.
  const { w, close } = await callbackTab('/plain');
  await w.byTestId('pl-cb-name').fill('Pēteris');
  await w.byTestId('pl-cb-phone').fill('(+371) 26123456');
  await w.byTestId('pl-cb-consent').check();
  await w.byTestId('pl-cb-submit').click();
  await w.byTestId('pl-cb-confirmation').waitFor({ state: 'visible' });
  assert.deepEqual(stack.query("select phone from callbacks where name = 'Pēteris'"), [{ phone: '+37126123456' }]);
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

const callbacks = () => stack.query('select count(*) as n from callbacks')[0].n;

test('a request made offline is saved, survives a reload, and is delivered once back online: one row, one webhook', async () => {
  const { context, close } = await visitor();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${stack.host}/plain`);
  const w = widget(page);
  await w.open();
  await w.byTestId('pl-tab-callback').click();
  await w.byTestId('pl-cb-name').fill('Offline Visitor');
  await w.byTestId('pl-cb-phone').fill('+371 2111 1111');
  await w.byTestId('pl-cb-consent').check();
  const before = callbacks();
  const frame = () => page.frames().find((f) => f.url().includes('/frame?'));
  const outboxKeys = () => frame().evaluate(() => Object.keys(localStorage).filter((k) => k.endsWith('/outbox')));
  assert.deepEqual(await outboxKeys(), [], 'nothing is stored before the visitor submits');

  // The create stays unreachable across the reload below (the host page itself must load).
  await context.route(CALLBACKS_POST, (route) => (route.request().method() === 'POST' ? route.abort() : route.continue()));
  await context.setOffline(true);
  await w.byTestId('pl-cb-submit').click();
  const queued = w.byTestId('pl-cb-queued');
  await queued.waitFor({ state: 'visible' });
  assert.equal(await queued.innerText(), "Saved — we'll send your request when you're back online.");
  assert.equal(await w.byTestId('pl-cb-submit').isVisible(), false, 'the form is put away: no second request');
  const [outboxKey] = await outboxKeys();
  assert.ok(outboxKey, 'the outbox is in the frame\'s storage');
  const saved = JSON.parse(await frame().evaluate((k) => localStorage.getItem(k), outboxKey));
  assert.deepEqual(saved.slice(0, 4).filter((_, i) => i !== 1), ['callback', 'POST', 'callbacks']);
  assert.match(saved[1], /^[0-9a-f-]{8,}$/i, 'an idempotency key per request');
  assert.equal(callbacks(), before);

  await context.setOffline(false);
  await page.reload();
  await w.open();
  const status = w.byTestId('pl-cb-status');
  await status.waitFor({ state: 'visible' });
  assert.equal(await status.getAttribute('data-status'), 'queued', 'after the reload the banner says it is saved');
  assert.equal(await status.innerText(), "Saved — we'll send your request when you're back online.");
  assert.equal(callbacks(), before, 'still nothing while the API is unreachable');
  await assertAccessible(page, 'saved request banner');

  // Back online for real: the browser tells the frame, and the outbox sends at once.
  await context.setOffline(true);
  await context.unroute(CALLBACKS_POST);
  await context.setOffline(false);
  await eventually(async () => (await status.getAttribute('data-status')) === 'received', 30000, 'delivery');
  const text = await status.innerText();
  const reference = text.match(/PL-[A-Z0-9]{6}/)?.[0];
  assert.ok(reference, text);
  assert.match(text, new RegExp(`Your callback ${reference} is booked: we'll call you by .+\\.`));
  // The Call me tab confirms it too, with the reference and the expected time.
  await w.byTestId('pl-tab-callback').click();
  const confirmation = w.byTestId('pl-cb-confirmation');
  await confirmation.waitFor({ state: 'visible' });
  assert.match(await confirmation.innerText(), new RegExp(`Thanks! We'll call you by .+\\.\\s+Your reference: ${reference}`));
  // The follow-up token is kept; the emptied outbox is removed.
  assert.match(await frame().evaluate(() => localStorage.getItem('porchlight.callback.e2e')), new RegExp(`^${reference} \\S+$`));
  assert.deepEqual(await outboxKeys(), []);

  await eventually(() => callbacks() === before + 1);
  await eventually(() => delivered('callback.created', reference).length === 1, 15000, 'the webhook');
  await wait(2500); // a duplicate request or delivery would have landed by now
  assert.equal(callbacks(), before + 1, 'exactly one row');
  assert.equal(stack.query(`select count(*) as n from callbacks where reference = '${reference}'`)[0].n, 1);
  assert.equal(delivered('callback.created', reference).length, 1, 'exactly one webhook delivery');
  assert.equal(delivered('callback.created', reference)[0].data.phone, '+37121111111', 'the receiver gets E.164');
  assert.deepEqual(badSignatures, []);
  assert.deepEqual(errors, []);
  await close();
});

test('a done callback asks for a one-click rating of the call, stored with the callback as its context', async () => {
  const { context, close } = await visitor();
  const page = await context.newPage();
  await page.goto(`${stack.host}/plain`);
  const w = widget(page);
  await w.open();
  await w.byTestId('pl-tab-callback').click();
  await w.byTestId('pl-cb-name').fill('Giulia');
  await w.byTestId('pl-cb-phone').fill('+39 06 1234 5678');
  await w.byTestId('pl-cb-consent').check();
  await w.byTestId('pl-cb-submit').click();
  const reference = (await w.byTestId('pl-cb-confirmation').innerText()).match(/PL-[A-Z0-9]{6}/)[0];
  assert.equal((await stack.operator('PUT', `/v1/sites/e2e/callbacks/${reference}/status`, { status: 'done' })).status, 200);

  await page.reload();
  await w.open();
  const status = w.byTestId('pl-cb-status');
  await eventually(async () => (await status.count()) === 1 && (await status.getAttribute('data-status')) === 'done');
  const prompt = w.byTestId('pl-cb-rating');
  await prompt.waitFor({ state: 'visible' });
  assert.equal(await prompt.locator('legend').innerText(), 'How was our call?');
  assert.equal(await w.byTestId('pl-rating-good').count(), 1, 'the Rate tab keeps its own ids');
  await assertAccessible(page, 'done banner with its rating prompt');

  await w.byTestId('pl-cb-rating-good').check();
  await w.byTestId('pl-cb-rating-thanks').waitFor({ state: 'visible' });
  await assertAccessible(page, 'rating of the call recorded');
  const row = await eventually(
    () => stack.query(`select value, context_kind, context_ref, page_path from ratings where context_ref = '${reference}'`)[0],
  );
  assert.deepEqual(row, { value: 'good', context_kind: 'callback', context_ref: reference, page_path: null });
  await eventually(() => delivered('rating.created', reference).length === 1, 15000, 'the rating webhook');
  assert.equal(stack.query(`select count(*) as n from ratings where context_ref = '${reference}'`)[0].n, 1);
  assert.equal(await w.byTestId('pl-rating-good').isChecked(), false, 'the standalone rating is separate');
  await close();
});

test('a saved request the server refuses once reachable says so and leads back to the form', async () => {
  const { context, close } = await visitor();
  const page = await context.newPage();
  await page.goto(`${stack.host}/plain`);
  const w = widget(page);
  await w.open();
  await w.byTestId('pl-tab-callback').click();
  await w.byTestId('pl-cb-name').fill('Late Visitor');
  await w.byTestId('pl-cb-phone').fill('+44 20 7946 0000');
  await w.byTestId('pl-cb-consent').check();
  const before = callbacks();
  await context.route(CALLBACKS_POST, (route) => route.abort());
  await w.byTestId('pl-cb-submit').click();
  await w.byTestId('pl-cb-queued').waitFor({ state: 'visible' });
  await page.reload();
  await w.open();
  const status = w.byTestId('pl-cb-status');
  await eventually(async () => (await status.getAttribute('data-status').catch(() => null)) === 'queued');

  // Reachable again, but the request no longer fits (say the chosen time passed meanwhile).
  await context.unroute(CALLBACKS_POST);
  await context.route(CALLBACKS_POST, (route) =>
    route.fulfill({
      status: 422,
      contentType: 'application/json',
      body: JSON.stringify({
        error: {
          code: 'validation_failed',
          message: 'Some fields are invalid.',
          fields: [{ field: 'preferred_ms', code: 'invalid', message: 'That time is not bookable.' }],
        },
      }),
    }),
  );
  await context.setOffline(true);
  await context.setOffline(false);
  await eventually(async () => (await status.getAttribute('data-status')) === 'refused', 30000, 'the refusal');
  assert.equal(await status.locator('p').innerText(), "We couldn't send your callback request. Please check it and send it again.");
  await assertAccessible(page, 'refused request banner');
  await status.getByRole('button').click();
  assert.equal(await w.byTestId('pl-tab-callback').getAttribute('aria-selected'), 'true');
  await w.byTestId('pl-cb-error-preferred_ms').waitFor({ state: 'visible' });
  assert.equal(await w.byTestId('pl-cb-submit').isVisible(), true, 'the form is back');
  assert.equal(await status.count(), 0, 'the banner has done its job');
  assert.equal(callbacks(), before);
  await context.unroute(CALLBACKS_POST);
  await close();
});

test('the visitor cancels a booked callback from its follow-up: the operator queue and a webhook say so', async () => {
  const { context, close } = await visitor();
  const page = await context.newPage();
  await page.goto(`${stack.host}/plain`);
  const w = widget(page);
  await w.open();
  await w.byTestId('pl-tab-callback').click();
  await w.byTestId('pl-cb-name').fill('Elena');
  await w.byTestId('pl-cb-phone').fill('+371 2612 3450');
  await w.byTestId('pl-cb-consent').check();
  await w.byTestId('pl-cb-submit').click();
  const reference = (await w.byTestId('pl-cb-confirmation').innerText()).match(/PL-[A-Z0-9]{6}/)[0];

  // Back later: the follow-up offers to call it off.
  await page.reload();
  await w.open();
  const status = w.byTestId('pl-cb-status');
  await eventually(async () => (await status.count()) === 1 && (await status.getAttribute('data-status')) === 'received');
  await assertAccessible(page, 'follow-up with its cancel button');
  await w.byTestId('pl-cb-cancel').click();
  await eventually(async () => (await status.getAttribute('data-status')) === 'cancelled', 10000, 'shown as cancelled');
  assert.match(await status.innerText(), new RegExp(`Your callback ${reference} is cancelled\\. We won't call\\.`));
  assert.equal(await w.byTestId('pl-cb-cancel').count(), 0, 'nothing left to cancel');
  assert.equal(stack.query(`select status from callbacks where reference = '${reference}'`)[0].status, 'cancelled');
  await eventually(
    () => delivered('callback.updated', reference).some((d) => d.data.status === 'cancelled'),
    15000,
    'the callback.updated webhook',
  );
  const pending = await stack.operator('GET', '/v1/sites/e2e/callbacks');
  assert.ok(!pending.body.callbacks.some((c) => c.reference === reference), 'gone from the operator queue');
  // Forgotten once final: the next visit shows no banner and the form again.
  await page.reload();
  await w.open();
  await w.byTestId('pl-tab-callback').click();
  await w.byTestId('pl-cb-name').waitFor({ state: 'visible' });
  assert.equal(await status.count(), 0);
  await close();
});
