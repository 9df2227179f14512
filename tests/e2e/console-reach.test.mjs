// The operator console in the operator's language (issue #7): the server picks it from
// Accept-Language (Chromium's `locale` context option sets that header), every language's
// log-in page is translated with `lang` and `dir` set, and axe-core reports zero violations in
// every state of the console (log-in form, log-in error, inbox, conversation, reply error,
// callback queue, ratings summary) in English and in right-to-left Arabic, whose layout mirrors.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startStack, eventually, axeViolations } from './harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../..');
const BIN = process.env.PORCHLIGHT_BIN || join(root, 'target/debug/porchlight');
const bundle = (tag) => JSON.parse(readFileSync(join(root, 'crates', 'console', 'i18n', `${tag}.json`), 'utf8'));
const LANGUAGES = ['en', 'lv', 'th', 'it', 'eo', 'el', 'ar'];
const EMAIL = 'rana@e2e.example';
const PASSWORD = 'a long enough console password';

let stack;
before(async () => {
  stack = await startStack({
    fakeNow: '2026-03-10T10:00:00+02:00',
    siteKeys: 'presence_default = "online"',
    // Short, so the inbox shows a breached promise (its badge is checked for contrast too).
    chatFirstReplySecs: 3,
  });
  execFileSync(
    BIN,
    ['operator', 'add', '--email', EMAIL, '--name', 'Rana Operator', '--config', join(stack.dir, 'porchlight.toml'), '--db', stack.db],
    { env: { ...process.env, PORCHLIGHT_OPERATOR_PASSWORD: PASSWORD, RUST_LOG: 'warn' } },
  );
  // Something in every panel: a waiting conversation, a pending callback, a few ratings.
  const post = async (path, body, key) => {
    const headers = { 'content-type': 'application/json' };
    if (key) headers['idempotency-key'] = key;
    const res = await fetch(`${stack.widget}/v1/sites/e2e/${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
    assert.ok(res.status === 200 || res.status === 201, `${path}: ${res.status} ${await res.text()}`);
  };
  await post('conversations', { message: { client_id: 'reach-conversation-1', body: 'Where is my order #1234?' } });
  await post('callbacks', { name: 'Layla', phone: '+371 2000 0001', note: 'After 14:00 please' }, 'reach-callback-1');
  for (const [i, value] of ['good', 'good', 'bad'].entries()) await post('ratings', { value }, `reach-rating-${i}`);
});
after(async () => {
  await stack?.stop();
});

/** A fresh context whose browser language is `locale`, on the console page. */
async function openConsole(locale) {
  const context = await stack.browser.newContext({ viewport: { width: 1400, height: 900 }, locale });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const response = await page.goto(`${stack.widget}/console`);
  assert.equal(response.status(), 200);
  const by = (id) => page.locator(`[data-testid="${id}"]`);
  await by('co-login').waitFor();
  return { context, page, errors, by, response };
}

/** axe-core over the whole console document (injected through the DevTools protocol, which
 * the console's CSP does not govern). Returns the state's name for the summary line. */
async function axe(page, state) {
  assert.deepEqual(await axeViolations(page), [], `axe violations in state "${state}"`);
  return state;
}

async function logIn(c, password) {
  await c.by('co-email').fill(EMAIL);
  await c.by('co-password').fill(password);
  await c.by('co-login').click();
}

for (const tag of LANGUAGES) {
  test(`${tag}: Accept-Language picks the console's language, lang and dir set, texts from the bundle`, async () => {
    const strings = bundle(tag);
    const c = await openConsole(tag);
    assert.equal(c.response.headers()['content-language'], tag);
    assert.equal(await c.page.evaluate(() => document.documentElement.lang), tag);
    assert.equal(await c.page.evaluate(() => document.documentElement.dir), tag === 'ar' ? 'rtl' : 'ltr');
    assert.equal(await c.page.title(), strings.ConsoleTitle);
    assert.equal((await c.by('co-login').innerText()).trim(), strings.LoginSubmit);
    assert.equal((await c.page.locator('.co-login h1').innerText()).trim(), strings.ConsoleTitle);
    const labels = await c.page.locator('.co-login label').allInnerTexts();
    assert.deepEqual(labels.map((l) => l.trim()), [strings.LoginEmail, strings.LoginPassword]);
    assert.deepEqual(c.errors, []);
    await c.context.close();
  });
}

test('a browser language the console does not speak gets English; q-values are honoured', async () => {
  for (const [header, expected] of [['de-CH, de;q=0.9', 'en'], ['fr;q=0.9, it;q=0.8, el;q=0.95', 'el']]) {
    const res = await fetch(`${stack.widget}/console`, { headers: { 'accept-language': header } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-language'), expected, header);
    assert.match(res.headers.get('vary'), /Accept-Language/);
    assert.match(await res.text(), new RegExp(`<html lang="${expected}" dir="ltr">`));
  }
});

for (const tag of ['en', 'ar']) {
  test(`${tag}: axe-core finds no violations in any console state, texts translated${tag === 'ar' ? ', layout mirrored' : ''}`, async () => {
    const strings = bundle(tag);
    const rtl = tag === 'ar';
    const c = await openConsole(tag);
    const { page, by } = c;
    const states = [];

    states.push(await axe(page, 'log-in form'));

    await logIn(c, 'not the right password');
    await by('co-login-error').waitFor();
    assert.equal((await by('co-login-error').innerText()).trim(), strings.LoginWrong);
    states.push(await axe(page, 'log-in error'));

    await logIn(c, PASSWORD);
    await by('co-logout').waitFor();
    assert.equal((await by('co-logout').innerText()).trim(), strings.Logout);
    const item = by('co-inbox-item').filter({ hasText: 'Where is my order #1234?' });
    await item.waitFor({ timeout: 10000 });
    await eventually(async () => (await item.getAttribute('data-breached')) === 'true', 10000, 'the promise breached');
    const row = page.locator('[data-testid="co-callback"]').filter({ hasText: 'Layla' });
    await row.waitFor({ timeout: 10000 });
    await by('co-ratings-share').waitFor({ timeout: 10000 });
    assert.equal((await page.locator('.co-inbox h2').innerText()).trim(), strings.InboxTitle);
    assert.equal((await item.getByTestId('co-inbox-breach').innerText()).trim(), strings.InboxBreached);
    const waitText = await item.getByTestId('co-inbox-wait').innerText();
    assert.ok(waitText.startsWith(strings.InboxWaiting.split('{')[0]), `wait line ${waitText}`);
    assert.equal((await page.locator('.co-conversation .co-empty').innerText()).trim(), strings.ConversationPick);
    // After log-in the console shows the operator's real, stored presence (away until chosen;
    // the language before may have left it online), never "not set".
    const presenceNow = async () => by('co-presence').getAttribute('data-status');
    await eventually(async () => ['away', 'online'].includes(await presenceNow()), 5000, 'presence known');
    const initial = await presenceNow();
    assert.equal((await by('co-presence').innerText()).trim(), initial === 'online' ? strings.PresenceOnline : strings.PresenceAway);
    states.push(await axe(page, 'inbox'));

    // Mirrored: the inbox is the first column, at the inline start (right in Arabic); its rows'
    // accent border is on that side too.
    const inboxBox = await page.locator('.co-inbox').boundingBox();
    const sideBox = await page.locator('.co-side').boundingBox();
    assert.equal(inboxBox.x > sideBox.x, rtl, 'inbox column at the inline start');
    const borders = await item.evaluate((e) => {
      const s = getComputedStyle(e);
      return { left: s.borderLeftWidth, right: s.borderRightWidth };
    });
    assert.deepEqual(borders, rtl ? { left: '1px', right: '4px' } : { left: '4px', right: '1px' });

    await item.click();
    const message = by('co-message').filter({ hasText: 'Where is my order #1234?' });
    await message.waitFor({ timeout: 10000 });
    assert.equal((await message.locator('.co-author').innerText()).trim(), strings.AuthorVisitor);
    // Dates through Intl in the operator's language.
    const time = await message.locator('time').evaluate((t) => ({
      text: t.textContent,
      intl: new Date(t.dateTime).toLocaleString(navigator.language, { dateStyle: 'medium', timeStyle: 'short' }),
    }));
    assert.equal(time.text, time.intl);
    assert.equal((await by('co-close-conversation').innerText()).trim(), strings.ConversationClose);
    assert.equal(await by('co-reply').getAttribute('aria-label'), strings.ReplyLabel);
    assert.equal(await by('co-reply').getAttribute('placeholder'), strings.ReplyPlaceholder);
    states.push(await axe(page, 'conversation'));

    await by('co-send').click();
    await by('co-reply-error').waitFor();
    assert.equal((await by('co-reply-error').innerText()).trim(), strings.ReplyEmpty);
    states.push(await axe(page, 'reply error'));

    if ((await presenceNow()) !== 'online') await by('co-presence').click();
    await eventually(async () => (await by('co-presence').getAttribute('data-status')) === 'online', 5000, 'online');
    assert.equal((await by('co-presence').innerText()).trim(), strings.PresenceOnline);

    // Callback queue: statuses in words, values still the wire names.
    assert.equal((await page.locator('.co-callbacks h2').innerText()).trim(), strings.CallbacksTitle);
    const options = await row.locator('option').allInnerTexts();
    assert.deepEqual(options.map((o) => o.trim()), [strings.StatusReceived, strings.StatusScheduled, strings.StatusDone, strings.StatusUnreachable]);
    await row.getByTestId('co-callback-status').selectOption('scheduled');
    await eventually(async () => (await row.getAttribute('data-status')) === 'scheduled', 10000, 'status saved');
    states.push(await axe(page, 'callback queue'));

    // Ratings summary: the share as a percentage from Intl, counted totals.
    await page.locator('.co-ratings button').click();
    await by('co-ratings-share').waitFor();
    const share = await page.evaluate(() =>
      new Intl.NumberFormat(document.documentElement.lang, { style: 'percent', maximumFractionDigits: 0 }).format(0.67),
    );
    assert.equal((await by('co-ratings-share').innerText()).trim(), strings.RatingsShare.replace('{share}', share));
    assert.equal((await page.locator('.co-ratings h2').innerText()).trim(), strings.RatingsTitle);
    const lines = await page.locator('.co-counts li').allInnerTexts();
    assert.ok(lines.some((l) => l.includes(strings.RatingPositive)), `counts ${lines}`);
    states.push(await axe(page, 'ratings summary'));

    assert.deepEqual(c.errors, []);
    console.log(`axe console ${tag}: 0 violations in ${states.length} states: ${states.join(', ')}`);
    await c.context.close();
  });
}
