// Each mission path through the real panel to a row in the real SQLite file, and what the
// visitor sees when the server can't be reached.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, openPage, widget, wait, eventually } from './harness.mjs';

let stack;
before(async () => {
  // The wait line is live availability: open only within business hours with someone online.
  stack = await startStack({ fakeNow: '2026-03-10T10:00:00+02:00', siteKeys: 'presence_default = "online"' });
});
after(async () => {
  await stack?.stop();
});


test('the wait-time line comes from the site config', async () => {
  const { page, context } = await openPage(stack, '/plain');
  const w = widget(page);
  await w.open();
  await assert.doesNotReject(w.byTestId('pl-wait-line').waitFor({ state: 'visible' }));
  assert.match(await w.byTestId('pl-wait-line').innerText(), /4 minutes/); // chat_first_reply_secs = 240
  await context.close();
});

test('rating: one click records it, a row reaches the database, a bad rating gets an apology and an offer', async () => {
  const before = stack.query('select count(*) as n from ratings')[0].n;
  const { page, context } = await openPage(stack, '/plain');
  const w = widget(page);
  await w.open();
  await w.byTestId('pl-tab-rating').click();
  await w.byTestId('pl-rating-good').check();
  await w.byTestId('pl-rating-thanks').waitFor({ state: 'visible' });
  const rows = await eventually(() => {
    const r = stack.query(`select value, site from ratings order by rowid desc`);
    return r.length === before + 1 && r;
  });
  assert.deepEqual(rows[0], { value: 'good', site: 'e2e' });

  await w.byTestId('pl-rating-bad').check();
  await w.byTestId('pl-rating-recovery').waitFor({ state: 'visible' });
  assert.match(await w.byTestId('pl-rating-sorry').innerText(), /sorry/i);
  // Someone is online here (presence_default = "online", business hours): chat now is offered.
  assert.equal((await w.byTestId('pl-rating-recovery-chat').innerText()).trim(), 'Chat now');
  await eventually(() => stack.query(`select 1 from ratings where value = 'bad'`).length === 1);
  await context.close();
});

test('rating by keyboard only: Tab to the group, arrows choose, the choice is recorded', async () => {
  const { page, context } = await openPage(stack, '/plain');
  const w = widget(page);
  await w.open();
  await w.byTestId('pl-tab-rating').click();
  await w.byTestId('pl-rating-bad').focus();
  await page.keyboard.press('ArrowRight'); // bad -> neutral
  await w.byTestId('pl-rating-thanks').waitFor({ state: 'visible' });
  assert.equal(await w.byTestId('pl-rating-neutral').isChecked(), true);
  await eventually(() => stack.query(`select 1 from ratings where value = 'neutral'`).length >= 1);
  await context.close();
});

test('callback: field errors in place, then a valid request is acknowledged with a reference and stored', async () => {
  const { page, context } = await openPage(stack, '/plain');
  const w = widget(page);
  await w.open();
  await w.byTestId('pl-tab-callback').click();
  await w.byTestId('pl-cb-phone').fill('call me');
  await w.byTestId('pl-cb-submit').click();
  await w.byTestId('pl-cb-error-name').waitFor({ state: 'visible' });
  await w.byTestId('pl-cb-error-phone').waitFor({ state: 'visible' });
  assert.equal(await w.byTestId('pl-cb-phone').getAttribute('aria-invalid'), 'true');
  assert.equal(stack.query('select count(*) as n from callbacks')[0].n, 0, 'nothing sent while invalid');

  await w.byTestId('pl-cb-name').fill('Līga Bērziņa');
  await w.byTestId('pl-cb-phone').fill('+371 2000 0000');
  await w.byTestId('pl-cb-submit').click();
  const confirmation = w.byTestId('pl-cb-confirmation');
  await confirmation.waitFor({ state: 'visible' });
  const text = await confirmation.innerText();
  const reference = text.match(/PL-[A-Z0-9]{6}/)?.[0];
  assert.ok(reference, `a reference is shown: ${text}`);
  const rows = stack.query(`select name, reference, status from callbacks`);
  assert.deepEqual(rows, [{ name: 'Līga Bērziņa', reference, status: 'received' }]);
  await context.close();
});

test('chat: a message is shown at once, acknowledged, and stored; markup stays inert text', async () => {
  const { page, context } = await openPage(stack, '/plain');
  const w = widget(page);
  await w.open();
  await w.byTestId('pl-tab-chat').click();
  const payload = '<img src=x onerror="window.__xss=1">Hello from the e2e test';
  await w.byTestId('pl-chat-input').fill(payload);
  await w.byTestId('pl-chat-send').click();
  const message = w.byTestId('pl-chat-message').last();
  await eventually(async () => (await message.getAttribute('data-status')) === 'sent', 10000);
  assert.equal(await message.locator('img').count(), 0, 'no element was created from the text');
  assert.match(await message.innerText(), /Hello from the e2e test/);

  await w.byTestId('pl-chat-input').fill('And a second one');
  await w.byTestId('pl-chat-send').click();
  await eventually(async () => (await w.byTestId('pl-chat-message').last().getAttribute('data-status')) === 'sent', 10000);
  const rows = stack.query(`select m.body, m.author from messages m join conversations c on c.id = m.conversation_id order by m.id`);
  assert.deepEqual(rows, [
    { body: payload, author: 'visitor' },
    { body: 'And a second one', author: 'visitor' },
  ]);
  await context.close();
});

test('endpoint unreachable: the launcher still works, the panel says so, and what was typed is kept', async () => {
  const { page, context, record } = await openPage(stack, '/offline');
  const w = widget(page);
  await w.open();
  await w.byTestId('pl-offline').waitFor({ state: 'visible' });
  await w.byTestId('pl-tab-callback').click();
  await w.byTestId('pl-cb-name').fill('Kostas');
  await w.byTestId('pl-cb-phone').fill('+30 210 1234567');
  await w.byTestId('pl-cb-submit').click();
  // The request is kept in the frame's outbox and sent once the endpoint answers.
  await w.byTestId('pl-cb-queued').waitFor({ state: 'visible' });
  assert.equal(await w.byTestId('pl-cb-queued').innerText(), "Saved — we'll send your request when you're back online.");
  assert.equal(await w.byTestId('pl-cb-submit').isVisible(), false, 'no second request meanwhile');

  await w.byTestId('pl-tab-chat').click();
  await w.byTestId('pl-chat-input').fill('Are you there?');
  await w.byTestId('pl-chat-send').click();
  const kept = await eventually(async () => {
    const failed = w.byTestId('pl-chat-message').filter({ hasText: 'Are you there?' });
    return (await failed.count()) === 1 && (await failed.getAttribute('data-status')) === 'failed';
  }, 10000);
  assert.ok(kept);
  assert.deepEqual(record.errors, []);
  await context.close();
});

test('while a visitor waits for a first answer, the header counts from their own message', async () => {
  const { page, context } = await openPage(stack, '/plain');
  const w = widget(page);
  await w.open();
  await w.byTestId('pl-tab-chat').click();
  const input = w.byTestId('pl-chat-input');
  await input.fill('Hello, a question about delivery');
  if ((await input.inputValue()) !== 'Hello, a question about delivery') {
    await input.evaluate((el) => {
      el.value = 'Hello, a question about delivery';
      el.dispatchEvent(new InputEvent('input', { bubbles: true }));
    });
  }
  await w.byTestId('pl-chat-send').click();
  await eventually(async () => (await w.frame.locator('[data-testid="pl-chat-message"][data-status="sent"]').count()) === 1, 10000, 'sent');
  // Someone is online (10:00 on a Tuesday): their deadline, not a generic "about 4 minutes".
  await eventually(async () => /^A person will answer by .*\d:\d{2}/.test(await w.byTestId('pl-wait-line').innerText()), 10000, 'their own deadline');
  await context.close();
});
