// Nobody is left waiting: a visitor writes while nobody is online, leaves an e-mail address in
// the chat, closes the page; the operator answers later and the reply reaches the visitor by
// e-mail through a real SMTP server (Debian's python3-aiosmtpd, started here on loopback).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createServer, connect } from 'node:net';
import { mkdtempSync, readdirSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStack, openPage, widget, eventually } from './harness.mjs';

let stack;
let smtp;
let maildir;

const freePort = () =>
  new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

const listening = (port) =>
  new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });

/** Fills a field in the cross-origin frame, falling back to an input event when Chromium routes
 * the keystrokes to the host page (as chat-live's `type` does). */
async function fill(w, testid, text) {
  const input = w.byTestId(testid);
  await input.click();
  await input.fill(text);
  if ((await input.inputValue()) === text) return;
  await input.evaluate((el, t) => {
    el.value = t;
    el.dispatchEvent(new InputEvent('input', { bubbles: true, inputType: 'insertText', data: t }));
  }, text);
}

/** The raw e-mails the SMTP server received. */
function mails() {
  const dir = join(maildir, 'new');
  return existsSync(dir) ? readdirSync(dir).map((f) => readFileSync(join(dir, f), 'utf8')) : [];
}

before(async () => {
  const port = await freePort();
  maildir = join(mkdtempSync(join(tmpdir(), 'porchlight-mail-')), 'maildir');
  smtp = spawn('/usr/bin/python3', ['-m', 'aiosmtpd', '-n', '-l', `127.0.0.1:${port}`, '-c', 'aiosmtpd.handlers.Mailbox', maildir], {
    stdio: 'ignore',
  });
  await eventually(() => listening(port), 10000, 'the SMTP server is up');
  // No presence: nobody is online (within business hours), so the chat offers the e-mail field.
  // The grace outlasts the closed tab's stream (noticed at the next 15 s keep-alive).
  stack = await startStack({
    fakeNow: '2026-03-10T10:00:00+02:00',
    topLevel: `[smtp]\nhost = "127.0.0.1"\nport = ${port}\ntls = "none"\nfrom = "E2E Shop <help@e2e.example>"\nreply_grace_secs = 18\n`,
  });
});
after(async () => {
  await stack?.stop();
  smtp?.kill();
});

const OPERATOR_EMAIL = 'mia@e2e.example';
const BIN = process.env.PORCHLIGHT_BIN || join(fileURLToPath(new URL('../..', import.meta.url)), 'target/debug/porchlight');

test('a visitor who leaves an e-mail and closes the page gets the reply by e-mail, once', async () => {
  // The site's operator (the real CLI): told by e-mail when a visitor writes while nobody is online.
  execFileSync(
    BIN,
    ['operator', 'add', '--email', OPERATOR_EMAIL, '--name', 'Mia', '--config', join(stack.dir, 'porchlight.toml'), '--db', stack.db],
    { env: { ...process.env, PORCHLIGHT_OPERATOR_PASSWORD: 'correct horse battery staple', RUST_LOG: 'warn' } },
  );
  const { page, context } = await openPage(stack, '/plain');
  const w = widget(page);
  await w.open();
  await w.byTestId('pl-tab-chat').click();
  const question = 'Is the blue lantern back in stock?';
  await fill(w, 'pl-chat-input', question);
  await w.byTestId('pl-chat-send').click();
  await eventually(
    async () => (await w.frame.locator('[data-testid="pl-chat-message"][data-status="sent"]').count()) === 1,
    10000,
    'the message acknowledged',
  );
  // Nobody online: one optional field, and a confirmation saying exactly what happens.
  await fill(w, 'pl-email-input', 'not an address');
  await w.byTestId('pl-email-save').click();
  await w.byTestId('pl-email-error').waitFor({ timeout: 5000 });
  assert.match(await w.byTestId('pl-email-error').innerText(), /e-mail address/);
  await fill(w, 'pl-email-input', 'anna@example.lv');
  await w.byTestId('pl-email-save').click();
  await w.byTestId('pl-email-saved').waitFor({ timeout: 5000 });
  assert.match(await w.byTestId('pl-email-saved').innerText(), /^We'll reply to a\*\*\*@example\.lv by .+\.$/);
  const [row] = stack.query(`select id, visitor_email from conversations`);
  assert.equal(row.visitor_email, 'anna@example.lv');
  // Mia heard of it at once, with the way into the console.
  const toMia = () => mails().filter((m) => new RegExp(`^To: ${OPERATOR_EMAIL}`, 'm').test(m));
  await eventually(() => toMia().length === 1, 20000, "the operators' alert arrives");
  const alert = toMia()[0].replace(/=\r?\n/g, '');
  assert.match(alert, /^Subject: \[E2E Shop\] A visitor left a message while nobody was online/m);
  assert.match(alert, new RegExp(`/console\\s+Conversation: ${row.id}`));
  await context.close();

  // The operator answers after the visitor left.
  const answer = 'Yes, it is back: shall we keep one for you?';
  const res = await stack.operator('POST', `/v1/console/conversations/${row.id}/messages`, { client_id: 'e2e-mail-reply-01', body: answer });
  assert.equal(res.status, 201);
  const toVisitor = () => mails().filter((m) => /^To: anna@example\.lv/m.test(m));
  await eventually(() => toVisitor().length === 1, 40000, 'the reply e-mail arrives');
  const mail = toVisitor()[0];
  assert.match(mail, /^Subject: Reply from E2E Shop/m);
  assert.match(mail.replace(/=\r?\n/g, ''), /> Yes, it is back: shall we keep one for you\?/);
  assert.match(mail, /^List-Unsubscribe: <.*\/v1\/email\/stop\?c=/m);
  await new Promise((r) => setTimeout(r, 2000));
  assert.equal(toVisitor().length, 1, 'never the same e-mail twice');
});

test('the operator closes the chat and e-mails the visitor the whole conversation from the console', async () => {
  const [row] = stack.query(`select id from conversations where visitor_email = 'anna@example.lv'`);
  assert.ok(row, 'the previous test left a conversation with an address');
  // Mia (added by the real CLI in the test above) signs in to the console.
  const context = await stack.browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${stack.widget}/console`);
  const by = (id) => page.locator(`[data-testid="${id}"]`);
  await by('co-email').fill('mia@e2e.example');
  await by('co-password').fill('correct horse battery staple');
  await by('co-login').click();
  await by('co-inbox-item').first().click();
  await by('co-close-conversation').click();
  await by('co-conversation-closed').waitFor({ timeout: 10000 });
  // After close, too: "send me this".
  await by('co-transcript').click();
  await eventually(async () => (await by('co-transcript-sent').innerText()) === 'On its way to a***@example.lv.', 10000, 'said where it goes');
  const transcripts = () => mails().filter((m) => /^Subject: Your conversation with E2E Shop/m.test(m));
  await eventually(() => transcripts().length === 1, 20000, 'the transcript arrives');
  const text = transcripts()[0].replace(/=\r?\n/g, '');
  assert.match(text, /^To: anna@example\.lv/m);
  assert.match(text, /You, .+:\r?\n> Is the blue lantern back in stock\?/);
  assert.match(text, /> Yes, it is back: shall we keep one for you\?/);
  await context.close();
});
