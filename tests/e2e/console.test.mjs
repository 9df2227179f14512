// The operator console at /console against the real server: log-in with an operator created by
// the real CLI, and two browser contexts (visitor on the host page, operator in the console)
// exchanging messages; the inbox order and breach marks; XSS payloads both ways as inert text;
// a keyboard-only walk through every console flow.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startStack, openPage, widget, wait, eventually, axeViolations } from './harness.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = process.env.PORCHLIGHT_BIN || join(root, 'target/debug/porchlight');
const EMAIL = 'olga@e2e.example';
const PASSWORD = 'correct horse battery staple';
// Short, so a breach happens within a test.
const PROMISE_SECS = 3;

const XSS = [
  '<img src=x onerror="window.__xss=1">',
  '<script>window.__xss=2</script>',
  '<svg onload="window.__xss=3"></svg>',
  '"><iframe src="javascript:window.__xss=4"></iframe>',
  '<a href="javascript:window.__xss=5">click</a>',
  '{{7*7}} ${7*7} &lt;b&gt;not bold&lt;/b&gt; &amp;',
];

let stack;
before(async () => {
  stack = await startStack({
    fakeNow: '2026-03-10T10:00:00+02:00',
    siteKeys: 'presence_default = "online"\ncanned_replies = [{ shortcut = "hours", text = "We answer Monday to Friday, 9-18." }, { shortcut = "help", text = "How can I help?" }]',
    chatFirstReplySecs: PROMISE_SECS,
  });
  // The real CLI, against the running server's database and config.
  const out = execFileSync(
    BIN,
    ['operator', 'add', '--email', EMAIL, '--name', 'Olga Operator', '--config', join(stack.dir, 'porchlight.toml'), '--db', stack.db],
    { env: { ...process.env, PORCHLIGHT_OPERATOR_PASSWORD: PASSWORD, RUST_LOG: 'warn' } },
  );
  assert.match(out.toString(), /operator \S+ added/);
});
after(async () => {
  await stack?.stop();
});


/** A fresh browser context on the console page, recording CSP violations and page errors. */
async function openConsole() {
  const context = await stack.browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  const record = { errors: [], violations: [] };
  page.on('pageerror', (e) => record.errors.push(String(e)));
  await page.addInitScript(() => {
    window.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  const response = await page.goto(`${stack.widget}/console`);
  assert.equal(response.status(), 200);
  const csp = response.headers()['content-security-policy'];
  assert.match(csp, /script-src 'self' 'wasm-unsafe-eval'/);
  assert.match(csp, /connect-src 'self'/);
  const by = (id) => page.locator(`[data-testid="${id}"]`);
  return { page, context, record, by };
}

async function logIn(c, password = PASSWORD) {
  await c.by('co-email').fill(EMAIL);
  await c.by('co-password').fill(password);
  await c.by('co-login').click();
}

/** A visitor conversation straight through the API (no Origin: not a browser). */
async function apiConversation(body) {
  const id = `e2e-${Math.random().toString(36).slice(2, 12)}`;
  const res = await fetch(`${stack.widget}/v1/sites/e2e/conversations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ message: { client_id: id, body } }),
  });
  assert.equal(res.status, 201);
  return res.json();
}

/** A callback request straight through the API; resolves with its reference. */
async function apiCallback(name, phone) {
  const res = await fetch(`${stack.widget}/v1/sites/e2e/callbacks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': `e2e-cb-${Math.random().toString(36).slice(2, 12)}` },
    body: JSON.stringify({ name, phone }),
  });
  assert.equal(res.status, 201);
  return (await res.json()).reference;
}

async function visitorSends(w, text) {
  await w.byTestId('pl-chat-input').fill(text);
  await w.byTestId('pl-chat-send').click();
  await eventually(
    async () => (await w.byTestId('pl-chat-message').last().getAttribute('data-status')) === 'sent',
    10000,
    `visitor message "${text}" acknowledged`,
  );
}

async function operatorReplies(c, text) {
  const before = await c.by('co-message').count();
  await c.by('co-reply').fill(text);
  await c.by('co-send').click();
  await eventually(async () => (await c.by('co-message').count()) > before, 10000, 'reply shown in the console');
  // The stream can show the reply a moment before the POST's answer clears the box.
  await eventually(async () => (await c.by('co-reply').inputValue()) === '', 5000, 'the reply box is cleared once sent');
}

test('console log-in: a wrong password is rejected, nothing is readable without a session', async () => {
  const c = await openConsole();
  await logIn(c, 'not the password at all');
  await c.by('co-login-error').waitFor({ state: 'visible' });
  assert.match(await c.by('co-login-error').innerText(), /wrong e-mail or password/i);
  assert.equal(await c.by('co-logout').count(), 0);
  const status = await c.page.evaluate(async () => (await fetch('/v1/console/inbox')).status);
  assert.equal(status, 401);
  assert.deepEqual(c.record.errors, []);
  await c.context.close();
});

test('visitor and operator exchange messages in two browser contexts', async () => {
  // Visitor: the widget on the host page.
  const visitor = await openPage(stack, '/plain');
  const w = widget(visitor.page);
  await w.open();
  await w.byTestId('pl-tab-chat').click();
  await visitorSends(w, 'Hello, is anyone there?');

  // Operator: the console, in another context.
  const c = await openConsole();
  await logIn(c);
  await c.by('co-logout').waitFor({ state: 'visible' });
  assert.equal(await c.by('co-operator').innerText(), 'Olga Operator');

  // Presence toggles online / away for the site.
  await c.by('co-presence').click();
  await eventually(async () => (await c.by('co-presence').getAttribute('data-status')) === 'online', 5000, 'online');
  await c.by('co-presence').click();
  await eventually(async () => (await c.by('co-presence').getAttribute('data-status')) === 'away', 5000, 'away');
  assert.equal(stack.query(`select status from operator_presence where site = 'e2e'`)[0].status, 'away');
  await c.by('co-presence').click();
  await eventually(async () => (await c.by('co-presence').getAttribute('data-status')) === 'online', 5000, 'online again');

  const first = c.by('co-inbox-item').filter({ hasText: 'Hello, is anyone there?' });
  await first.waitFor({ state: 'visible', timeout: 10000 });
  // By id from here on: the preview changes with every message.
  const item = c.page.locator(`[data-testid="co-inbox-item"][data-conversation="${await first.getAttribute('data-conversation')}"]`);
  assert.match(await item.innerText(), new RegExp(`promised ${PROMISE_SECS}s`));
  assert.ok(['true', 'false'].includes(await item.getAttribute('data-breached')));
  await item.click();
  await c.by('co-message').filter({ hasText: 'Hello, is anyone there?' }).waitFor({ timeout: 10000 });

  // The visitor types and writes again: the console sees it live.
  await w.byTestId('pl-chat-input').pressSequentially('Still', { delay: 30 });
  await visitorSends(w, 'Still there?');
  await c.by('co-message').filter({ hasText: 'Still there?' }).waitFor({ timeout: 10000 });

  // The operator replies; the visitor sees the reply.
  await operatorReplies(c, 'Hi! Olga here, how can I help?');
  const reply = w.frame.locator('[data-testid="pl-chat-message"][data-author="operator"]').filter({ hasText: 'Olga here' });
  await reply.waitFor({ state: 'visible', timeout: 20000 });
  const rows = stack.query(`select body, author from messages order by id`);
  assert.deepEqual(
    rows.filter((r) => r.author === 'operator').map((r) => r.body),
    ['Hi! Olga here, how can I help?'],
  );
  // Shown once each in the console, despite reloads and live events.
  assert.equal(await c.by('co-message').count(), 3);

  // Answered: nobody waits, so no breach.
  await eventually(async () => (await item.getAttribute('data-breached')) === 'false', 10000, 'answered, not breached');

  // Close: the conversation leaves the inbox.
  await c.by('co-close-conversation').click();
  await c.by('co-conversation-closed').waitFor({ timeout: 10000 });
  await eventually(async () => (await item.count()) === 0, 10000, 'closed conversation gone from the inbox');
  assert.ok(stack.query(`select closed_ms from conversations where closed_ms is not null`).length >= 1);

  // Log out: back to the log-in form, and the session is gone.
  await c.by('co-logout').click();
  await c.by('co-login').waitFor({ timeout: 5000 });
  assert.equal(await c.page.evaluate(async () => (await fetch('/v1/console/me')).status), 401);
  assert.deepEqual(c.record.errors, []);
  assert.deepEqual(await c.page.evaluate(() => window.__violations), []);
  await c.context.close();
  await visitor.context.close();
});

test('inbox: longest waiting first, breaches marked once the promise has passed', async () => {
  const older = await apiConversation('first in line');
  await wait(50);
  const newer = await apiConversation('second in line');
  const c = await openConsole();
  await logIn(c);
  const ids = async () =>
    c.by('co-inbox-item').evaluateAll((els) => els.map((e) => e.getAttribute('data-conversation')));
  await eventually(async () => (await ids()).includes(newer.conversation_id), 10000, 'both in the inbox');
  const order = (await ids()).filter((id) => id === older.conversation_id || id === newer.conversation_id);
  assert.deepEqual(order, [older.conversation_id, newer.conversation_id]);
  const row = c.by('co-inbox-item').filter({ hasText: 'first in line' });
  // The console clock flips the mark when the promise passes, without waiting for a reload.
  await eventually(async () => (await row.getAttribute('data-breached')) === 'true', (PROMISE_SECS + 5) * 1000, 'breach');
  await row.getByTestId('co-inbox-breach').waitFor();
  await c.context.close();
});

test('XSS payloads sent both ways render as inert text in the console and the widget', async () => {
  const visitor = await openPage(stack, '/plain');
  const w = widget(visitor.page);
  await w.open();
  await w.byTestId('pl-tab-chat').click();
  for (const payload of XSS) await visitorSends(w, payload);

  const c = await openConsole();
  await logIn(c);
  const item = c.by('co-inbox-item').filter({ hasText: XSS[XSS.length - 1].slice(0, 10) });
  await item.first().waitFor({ timeout: 10000 });
  await item.first().click();
  await eventually(async () => (await c.by('co-message').count()) === XSS.length, 10000, 'all payloads shown');
  for (const payload of XSS) await operatorReplies(c, `re: ${payload}`);

  const bodies = await c.by('co-message-body').allTextContents();
  assert.deepEqual(bodies, [...XSS, ...XSS.map((p) => `re: ${p}`)]);
  const injected = await c.page.locator('.co-messages img, .co-messages script, .co-messages svg, .co-messages iframe, .co-messages a, .co-inbox img, .co-inbox script, .co-inbox svg').count();
  assert.equal(injected, 0, 'no element was created from message text in the console');

  const replies = w.frame.locator('[data-testid="pl-chat-message"][data-author="operator"]');
  await eventually(async () => (await replies.count()) === XSS.length, 20000, 'replies in the widget');
  const texts = await replies.allInnerTexts();
  for (const payload of XSS) assert.ok(texts.some((t) => t.includes(`re: ${payload}`)), `widget shows ${payload} as text`);
  assert.equal(await w.frame.locator('.pl-chat-log img, .pl-chat-log script, .pl-chat-log svg, .pl-chat-log iframe, .pl-chat-log a').count(), 0);

  await wait(300);
  assert.equal(await c.page.evaluate(() => window.__xss), undefined);
  assert.equal(await visitor.page.evaluate(() => window.__xss), undefined);
  const frame = visitor.page.frames().find((f) => f.url().includes('/frame'));
  assert.equal(await frame.evaluate(() => window.__xss), undefined);
  assert.deepEqual(c.record.errors, []);
  await c.context.close();
  await visitor.context.close();
});

test('callback queue with status changes, and the ratings summary', async () => {
  const c = await openConsole();
  await logIn(c);
  await c.by('co-ratings-summary').waitFor();
  // The console session (not only the operator bearer token) may read the operator routes.
  const probe = await c.page.evaluate(async () => (await fetch('/v1/sites/e2e/callbacks?status=pending')).status);
  assert.equal(probe, 200);
  const reference = await apiCallback('<b>Bold</b> Name', '+371 2000 0000');
  await c.page.reload();
  const row = c.page.locator(`[data-testid="co-callback"][data-reference="${reference}"]`);
  await row.waitFor({ timeout: 10000 });
  assert.match(await row.innerText(), /<b>Bold<\/b> Name/);
  // The number grouped for reading, and one click to dial it.
  const phone = row.getByTestId('co-callback-phone');
  assert.equal(await phone.innerText(), '+371 20 000 000');
  assert.equal(await phone.getAttribute('href'), 'tel:+37120000000');
  // Due in two business hours on the server's (fake) clock: not overdue once the console knows it.
  await eventually(async () => (await row.getByTestId('co-callback-overdue').count()) === 0, 10000, 'not overdue');
  // Scheduled for an hour ago and not yet made: marked overdue.
  const late = await apiCallback('Late Caller', '+371 2000 0001');
  const anHourAgo = Date.parse('2026-03-10T09:00:00+02:00');
  assert.equal((await stack.operator('PUT', `/v1/sites/e2e/callbacks/${late}/status`, { status: 'scheduled', due_ms: anHourAgo })).status, 200);
  await c.page.reload();
  const lateRow = c.page.locator(`[data-testid="co-callback"][data-reference="${late}"]`);
  await eventually(async () => (await lateRow.getByTestId('co-callback-overdue').count()) === 1, 10000, 'marked overdue');
  assert.equal(await lateRow.getByTestId('co-callback-overdue').innerText(), 'overdue');
  await row.getByTestId('co-callback-status').selectOption('done');
  await eventually(async () => (await row.getAttribute('data-status')) === 'done', 10000, 'status saved');
  assert.equal(stack.query(`select status from callbacks where reference = '${reference}'`)[0].status, 'done');
  await c.by('co-ratings-share').waitFor();
  // A rating of a chat, with a comment: listed with what was said, and the chat one click away.
  const words = `Slow but kind ${Math.random().toString(36).slice(2, 8)}`;
  const chat = await apiConversation(`About my order ${words}`);
  const rated = await fetch(`${stack.widget}/v1/sites/e2e/ratings`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': `e2e-rate-${Math.random().toString(36).slice(2, 12)}` },
    body: JSON.stringify({ value: 'neutral', comment: words, context: { kind: 'chat', ref_id: chat.conversation_id } }),
  });
  assert.equal(rated.status, 201);
  await c.page.reload();
  const said = c.by('co-rating-recent').filter({ hasText: words });
  await said.waitFor({ timeout: 10000 });
  await said.getByTestId('co-rating-chat').click();
  await c.by('co-message').filter({ hasText: `About my order ${words}` }).waitFor({ timeout: 10000 });
  await c.context.close();
});

/**
 * Presses Tab until the element with `testid` (and `match`, if given) has focus, as a keyboard
 * user would, and checks the focus is visible there (`:focus-visible` with a real outline).
 */
async function tabTo(c, testid, { match = () => true, max = 60 } = {}) {
  for (let i = 0; i < max; i++) {
    await c.page.keyboard.press('Tab');
    const focused = await c.page.evaluate(() => {
      const el = document.activeElement;
      if (!el) return null;
      const style = getComputedStyle(el);
      return {
        testid: el.dataset.testid,
        text: el.textContent,
        conversation: el.dataset.conversation,
        reference: el.closest('[data-reference]')?.dataset.reference,
        visible: el.matches(':focus-visible') && style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
      };
    });
    if (focused?.testid === testid && match(focused)) {
      assert.ok(focused.visible, `focus on ${testid} is visible`);
      return;
    }
  }
  throw new Error(`${testid} not reached with ${max} presses of Tab`);
}

test('keyboard only: log in, go online, answer and close a conversation, change a callback', async () => {
  const conversation = await apiConversation('Keyboard-only, please');
  const reference = await apiCallback('Keyboard Caller', '+371 2000 0001');

  const c = await openConsole();
  await tabTo(c, 'co-email');
  await c.page.keyboard.type(EMAIL);
  await tabTo(c, 'co-password');
  await c.page.keyboard.type(PASSWORD);
  await c.page.keyboard.press('Enter');
  await c.by('co-logout').waitFor({ state: 'visible', timeout: 10000 });

  // Presence: Space toggles it like a click.
  const before = await c.by('co-presence').getAttribute('data-status');
  await tabTo(c, 'co-presence');
  await c.page.keyboard.press('Space');
  await eventually(async () => (await c.by('co-presence').getAttribute('data-status')) !== before, 5000, 'presence toggled by Space');

  // The conversation from the inbox, with Enter.
  await c.page.locator(`[data-testid="co-inbox-item"][data-conversation="${conversation.conversation_id}"]`).waitFor({ timeout: 10000 });
  await tabTo(c, 'co-inbox-item', { match: (f) => f.conversation === conversation.conversation_id });
  await c.page.keyboard.press('Enter');
  await c.by('co-message').filter({ hasText: 'Keyboard-only, please' }).waitFor({ timeout: 10000 });

  // Reply: type, Enter sends (Shift+Enter would be a new line).
  await tabTo(c, 'co-reply');
  await c.page.keyboard.type('Answered without a mouse');
  await c.page.keyboard.press('Enter');
  await c.by('co-message').filter({ hasText: 'Answered without a mouse' }).waitFor({ timeout: 10000 });
  await eventually(
    () => stack.query(`select count(*) as n from messages where conversation_id = '${conversation.conversation_id}' and author = 'operator'`)[0].n === 1,
    10000,
    'the reply stored',
  );

  // Close it with Enter on the button.
  await tabTo(c, 'co-close-conversation');
  await c.page.keyboard.press('Enter');
  await c.by('co-conversation-closed').waitFor({ timeout: 10000 });
  await eventually(
    () => stack.query(`select closed_ms from conversations where id = '${conversation.conversation_id}'`)[0].closed_ms !== null,
    10000,
    'closed in the database',
  );

  // The callback's status: arrow keys on the focused select.
  const row = c.page.locator(`[data-testid="co-callback"][data-reference="${reference}"]`);
  await row.waitFor({ timeout: 10000 });
  const status = await row.getAttribute('data-status');
  await tabTo(c, 'co-callback-status', { match: (f) => f.reference === reference });
  await c.page.keyboard.press('ArrowDown');
  await eventually(async () => (await row.getAttribute('data-status')) !== status, 10000, 'status changed from the keyboard');
  const stored = stack.query(`select status from callbacks where reference = '${reference}'`)[0].status;
  assert.notEqual(stored, status);
  assert.equal(stored, await row.getAttribute('data-status'));

  // Log out with the keyboard too.
  await tabTo(c, 'co-logout');
  await c.page.keyboard.press('Enter');
  await c.by('co-login').waitFor({ timeout: 5000 });
  assert.deepEqual(c.record.errors, []);
  await c.context.close();
});

test('a visitor message the operator is not looking at: a count in the tab title and a desktop notification', async () => {
  const c = await openConsole();
  await c.context.grantPermissions(['notifications'], { origin: stack.widget });
  await logIn(c);
  await c.by('co-logout').waitFor({ state: 'visible' });
  // Record the notifications the console creates (they still reach the real constructor).
  await c.page.evaluate(() => {
    window.__notes = [];
    const Real = window.Notification;
    window.Notification = new Proxy(Real, {
      construct(target, args) {
        window.__notes.push({ title: args[0], body: args[1] && args[1].body });
        return new target(...args);
      },
    });
  });
  // Permission granted: no button asking for it.
  assert.equal(await c.by('co-notify').count(), 0);
  const base = await c.page.title();
  const text = `Is the blue lantern back? ${Math.random().toString(36).slice(2, 8)}`;
  await apiConversation(text);
  await eventually(async () => (await c.page.title()) === `(1) ${base}`, 10000, 'count in the tab title');
  const notes = await c.page.evaluate(() => window.__notes);
  assert.equal(notes.length, 1);
  assert.equal(notes[0].title, 'New message from a visitor');
  assert.equal(notes[0].body, text);
  // Opening the conversation is seeing it.
  await c.by('co-inbox-item').filter({ hasText: text }).click();
  await eventually(async () => (await c.page.title()) === base, 5000, 'title back to normal');
  assert.deepEqual(c.record.errors, []);
  await c.context.close();
});

test('a chat whose promised reply time passes shows up as broken in the console ledger at once', async () => {
  const c = await openConsole();
  await logIn(c);
  await c.by('co-logout').waitFor({ state: 'visible' });
  const text = `Hello? nobody answers ${Math.random().toString(36).slice(2, 8)}`;
  const { conversation_id: id } = await apiConversation(text);
  const [promise] = stack.query(`select kind, due_ms - promised_ms as wait_ms from promises where subject_id = '${id}'`);
  assert.equal(promise.kind, 'chat_first_reply');
  // What the panel showed: the posted 3 s, rounded up to the minute the widget speaks in.
  assert.ok(promise.wait_ms <= 90000, `a short promise on this stack (${promise.wait_ms} ms)`);
  // Broken by the sweeper when the time passes, and the console hears of it without a reload.
  const broken = c.by('co-promise-break').filter({ hasText: id });
  await broken.waitFor({ timeout: promise.wait_ms + 15000 });
  assert.match(await broken.innerText(), /still unanswered/);
  assert.equal(stack.query(`select outcome from promises where subject_id = '${id}'`)[0].outcome, 'broken');
  // Answered late: the ledger says by how much.
  const res = await stack.operator('POST', `/v1/console/conversations/${id}/messages`, { client_id: `late-${id.slice(3, 15)}`, body: 'Sorry for the wait!' });
  assert.equal(res.status, 201);
  await c.page.locator('.co-promises button.co-secondary').click();
  await eventually(async () => /answered \d+ min late/.test(await broken.innerText()), 10000, 'late by how much');
  // And whose answer it was: the operator token's, shown as automation.
  await eventually(async () => /Automation: kept \d+ of \d+/.test((await c.by('co-promise-operator').allInnerTexts()).join('\n')), 10000, 'per operator');
  assert.deepEqual(c.record.errors, []);
  await c.context.close();
});

test('claim a conversation: Mine shows it with who has it; unassigned, it is back in Unassigned', async () => {
  const c = await openConsole();
  await logIn(c);
  await c.by('co-logout').waitFor({ state: 'visible' });
  await eventually(async () => ['away', 'online'].includes(await c.by('co-presence').getAttribute('data-status')), 5000, 'presence known');
  if ((await c.by('co-presence').getAttribute('data-status')) !== 'online') await c.by('co-presence').click();
  await eventually(async () => (await c.by('co-presence').getAttribute('data-status')) === 'online', 5000, 'online');
  const text = `Assign me ${Math.random().toString(36).slice(2, 8)}`;
  const { conversation_id: id } = await apiConversation(text);
  // Olga may be at capacity from earlier tests (then it stays unassigned): she claims it.
  await c.by('co-view-all').click();
  await c.by('co-inbox-item').filter({ hasText: text }).click();
  await c.by('co-claim').click();
  await c.by('co-view-mine').click();
  const item = c.by('co-inbox-item').filter({ hasText: text });
  await item.waitFor({ timeout: 10000 });
  assert.equal((await item.getByTestId('co-inbox-assignee').innerText()).trim(), 'With Olga Operator');
  await c.by('co-view-unassigned').click();
  await eventually(async () => (await c.by('co-inbox-item').filter({ hasText: text }).count()) === 0, 5000, 'not unassigned');
  const res = await stack.operator('POST', `/v1/console/conversations/${id}/assign`, { operator_id: null });
  assert.equal(res.status, 204);
  await c.by('co-view-all').click();
  await c.by('co-view-unassigned').click();
  await c.by('co-inbox-item').filter({ hasText: text }).waitFor({ timeout: 10000 });
  assert.deepEqual(c.record.errors, []);
  await c.context.close();
});

test('who the visitor is, a canned reply with /, and the history search that opens a closed chat read-only', async () => {
  // The visitor's browser is in Bangkok.
  const visitor = await openPage(stack, '/plain', { contextOptions: { timezoneId: 'Asia/Bangkok' } });
  const w = widget(visitor.page);
  await w.open();
  await w.byTestId('pl-tab-chat').click();
  await visitorSends(w, 'Where is my blue lantern order?');

  const c = await openConsole();
  await logIn(c);
  const item = c.by('co-inbox-item').filter({ hasText: 'blue lantern order' });
  await item.waitFor({ state: 'visible', timeout: 10000 });
  // Who waits, at a glance in the inbox: their language and page.
  assert.equal(await item.locator('[data-testid="co-inbox-visitor"]').innerText(), 'en · /plain');
  await item.click();
  await c.by('co-message').filter({ hasText: 'blue lantern order' }).waitFor({ timeout: 10000 });
  await eventually(async () => /Their time/.test(await c.by('co-visitor').innerText()), 10000, 'the visitor context');
  const context = await c.by('co-visitor').innerText();
  assert.match(context, /Page: Plain host/);
  assert.match(context, /Language: en/);
  assert.match(context, /Their time: .+ \(Asia\/Bangkok\)/);

  // "/h" lists both canned replies; "/ho" and Tab puts the text in the box.
  await c.by('co-reply').fill('/h');
  await eventually(async () => (await c.by('co-canned-item').count()) === 2, 5000, 'two suggestions');
  await c.by('co-reply').fill('/ho');
  await eventually(async () => (await c.by('co-canned-item').count()) === 1, 5000, 'one suggestion');
  await c.by('co-reply').press('Tab');
  assert.equal(await c.by('co-reply').inputValue(), 'We answer Monday to Friday, 9-18.');
  await c.by('co-send').click();
  await w.frame.locator('[data-testid="pl-chat-message"][data-author="operator"]').filter({ hasText: 'We answer Monday to Friday' })
    .waitFor({ state: 'visible', timeout: 20000 });
  await c.by('co-close-conversation').click();
  await c.by('co-conversation-closed').waitFor({ timeout: 10000 });
  assert.deepEqual(await axeViolations(c.page), [], 'axe on the conversation with its visitor context');

  // History: found by a word of the visitor's message, opened read-only.
  await c.page.reload();
  await c.by('co-history-q').waitFor({ timeout: 10000 });
  await c.by('co-history-q').fill('LANTERN');
  await c.by('co-history-search').click();
  const hit = c.by('co-history-item').filter({ hasText: 'blue lantern order' });
  await hit.waitFor({ state: 'visible', timeout: 10000 });
  await hit.click();
  await c.by('co-conversation-closed').waitFor({ timeout: 10000 });
  assert.equal(await c.by('co-reply').count(), 0, 'a closed chat from the history is read-only');
  assert.equal(await c.by('co-message').count(), 2);
  await c.by('co-history-q').fill('no such words anywhere');
  await c.by('co-history-search').click();
  await c.by('co-history-empty').waitFor({ timeout: 10000 });
  assert.deepEqual(await axeViolations(c.page), [], 'axe with the history panel');
  assert.deepEqual(c.record.errors, []);
  assert.deepEqual(await c.page.evaluate(() => window.__violations), []);
  await c.context.close();
  await visitor.context.close();
});

test('an admin exports and erases one person from the console; the audit log shows who did it; others see no such panel', async () => {
  // Olga is not an admin: no personal-data panel for her.
  const olga = await openConsole();
  await logIn(olga);
  await olga.by('co-history').waitFor({ timeout: 10000 });
  assert.equal(await olga.by('co-admin').count(), 0);
  await olga.context.close();

  const ADMIN = 'ada@e2e.example';
  execFileSync(
    BIN,
    ['operator', 'add', '--email', ADMIN, '--name', 'Ada Admin', '--admin', '--config', join(stack.dir, 'porchlight.toml'), '--db', stack.db],
    { env: { ...process.env, PORCHLIGHT_OPERATOR_PASSWORD: PASSWORD, RUST_LOG: 'warn' } },
  );
  const words = `Please forget me ${Math.random().toString(36).slice(2, 8)}`;
  const created = await apiConversation(words);
  const contact = await fetch(`${stack.widget}/v1/sites/e2e/conversations/${created.conversation_id}/contact`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${created.token}` },
    body: JSON.stringify({ email: 'forget.me@example.lv' }),
  });
  assert.equal(contact.status, 200);

  const c = await openConsole();
  await c.by('co-email').fill(ADMIN);
  await c.by('co-password').fill(PASSWORD);
  await c.by('co-login').click();
  await c.by('co-admin').waitFor({ timeout: 10000 });
  // A malformed selector is a visible, translated error.
  await c.by('co-data-value').fill('not an address');
  await c.by('co-data-export').click();
  await c.by('co-data-error').waitFor({ timeout: 10000 });
  // Export: everything about her, as JSON.
  await c.by('co-data-value').fill('forget.me@example.lv');
  await c.by('co-data-export').click();
  await eventually(async () => (await c.by('co-data-result').innerText()).includes(words), 10000, 'the export');
  // Erase, after a question.
  await c.by('co-data-erase').click();
  await c.by('co-data-erase-yes').click();
  await eventually(async () => /Removed \d+ rows\./.test(await c.by('co-data-result').innerText()), 10000, 'erased');
  assert.equal(stack.query(`select count(*) as n from conversations where id = '${created.conversation_id}'`)[0].n, 0);
  assert.equal(stack.query(`select count(*) as n from messages where body = '${words}'`)[0].n, 0);
  await eventually(async () => (await c.by('co-audit').innerText()).includes(`${ADMIN} · erase · email`), 10000, 'audited');
  assert.ok(!(await c.by('co-audit').innerText()).includes('forget.me'), 'the audit log never holds the selector');
  assert.deepEqual(await axeViolations(c.page), [], 'axe with the admin panel');
  assert.deepEqual(c.record.errors, []);
  await c.context.close();
});

test('an admin adds an operator in the console (field errors shown in words), sets capacity, and removes them', async () => {
  const ADMIN = 'ada@e2e.example';
  // The previous test made Ada an admin; make sure of it when this one runs alone.
  try {
    execFileSync(
      BIN,
      ['operator', 'add', '--email', ADMIN, '--name', 'Ada Admin', '--admin', '--config', join(stack.dir, 'porchlight.toml'), '--db', stack.db],
      { env: { ...process.env, PORCHLIGHT_OPERATOR_PASSWORD: PASSWORD, RUST_LOG: 'warn' }, stdio: 'ignore' },
    );
  } catch {
    // Already there.
  }
  const c = await openConsole();
  await c.by('co-email').fill(ADMIN);
  await c.by('co-password').fill(PASSWORD);
  await c.by('co-login').click();
  await c.by('co-operators').waitFor({ timeout: 10000 });
  // Two mistakes at once: both named, nothing stored.
  await c.by('co-op-email').fill('nina@e2e.example');
  await c.by('co-op-name').fill('Nina New');
  await c.by('co-op-password').fill('short');
  await c.by('co-op-sites').fill('e2e, nowhere');
  await c.by('co-op-add').click();
  await eventually(async () => {
    const text = await c.by('co-operators-errors').innerText();
    return text.includes('The password needs 10 to 1024 characters.') && text.includes('Use the ids of configured sites');
  }, 10000, 'both field errors shown');
  assert.equal(stack.query(`select count(*) as n from operators where email = 'nina@e2e.example'`)[0].n, 0);
  // Fixed: she is added, listed, and can sign in.
  await c.by('co-op-password').fill(PASSWORD);
  await c.by('co-op-sites').fill('e2e');
  await c.by('co-op-capacity').fill('2');
  await c.by('co-op-add').click();
  await c.by('co-operators-done').waitFor({ timeout: 10000 });
  const nina = c.by('co-operator').filter({ hasText: 'nina@e2e.example' });
  await nina.waitFor({ timeout: 10000 });
  assert.match(await nina.innerText(), /Nina New · nina@e2e\.example · e2e/);
  assert.equal(await nina.getByTestId('co-operator-capacity').inputValue(), '2');
  assert.equal(await c.by('co-op-password').inputValue(), '', 'the form is cleared');
  const other = await openConsole();
  await other.by('co-email').fill('nina@e2e.example');
  await other.by('co-password').fill(PASSWORD);
  await other.by('co-login').click();
  await other.by('co-logout').waitFor({ timeout: 10000 });
  assert.equal(await other.by('co-operators').count(), 0, 'not an admin: no Operators panel');
  // Room for five chats.
  await nina.getByTestId('co-operator-capacity').fill('5');
  await nina.getByTestId('co-operator-save').click();
  await eventually(() => stack.query(`select capacity from operators where email = 'nina@e2e.example'`)[0].capacity === 5, 10000, 'capacity stored');
  // Removed after a question: her console session ends.
  await nina.getByTestId('co-operator-remove').click();
  await nina.getByTestId('co-operator-remove-yes').click();
  await eventually(async () => (await nina.count()) === 0, 10000, 'gone from the list');
  assert.equal(await other.page.evaluate(async () => (await fetch('/v1/console/me')).status), 401);
  assert.equal(await c.by('co-operator').filter({ hasText: ADMIN }).getByTestId('co-operator-remove').count(), 0, 'no removing yourself');
  assert.deepEqual(await axeViolations(c.page), [], 'axe with the Operators panel');
  assert.deepEqual(c.record.errors, []);
  await other.context.close();
  await c.context.close();
});
