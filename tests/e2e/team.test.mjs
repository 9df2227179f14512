// A team behind the promise, as two operators and a visitor meet it: the visitor's open panel
// learns that people came online; the new chat goes to one of them; it is transferred from the
// console's list; the colleague hears a chime (and none once they turned it off); and when both
// close their tabs the visitor's panel stops promising a quick answer within seconds, not after
// the 60 s expiry.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startStack, openPage, widget, eventually } from './harness.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = process.env.PORCHLIGHT_BIN || join(root, 'target/debug/porchlight');
const PASSWORD = 'correct horse battery staple';
const ANN = { email: 'ann@team.example', name: 'Ann Lee' };
const CARA = { email: 'cara@team.example', name: 'Cara Diaz' };

let stack;
before(async () => {
  // No presence_default: the site is "nobody online" until an operator's console says otherwise.
  stack = await startStack({ fakeNow: '2026-03-10T10:00:00+02:00' });
  for (const who of [ANN, CARA]) {
    execFileSync(
      BIN,
      ['operator', 'add', '--email', who.email, '--name', who.name, '--sites', 'e2e', '--config', join(stack.dir, 'porchlight.toml'), '--db', stack.db],
      { env: { ...process.env, PORCHLIGHT_OPERATOR_PASSWORD: PASSWORD, RUST_LOG: 'warn' } },
    );
  }
});
after(async () => {
  await stack?.stop();
});

/** A console in its own browser context, logged in and online; counts the chime's tones. */
async function onlineConsole(who) {
  const context = await stack.browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  // Web Audio is real (the tones play into headless Chromium's null sink); counting the
  // oscillators the console creates is how a test hears them.
  await page.addInitScript(() => {
    window.__tones = 0;
    const create = AudioContext.prototype.createOscillator;
    AudioContext.prototype.createOscillator = function () {
      window.__tones += 1;
      return create.call(this);
    };
  });
  await page.goto(`${stack.widget}/console`);
  const by = (id) => page.locator(`[data-testid="${id}"]`);
  await by('co-email').fill(who.email);
  await by('co-password').fill(PASSWORD);
  await by('co-login').click();
  await by('co-logout').waitFor({ state: 'visible' });
  await eventually(async () => (await by('co-presence').getAttribute('data-status')) === 'away', 10000, `${who.name} away after log-in`);
  await by('co-presence').click();
  await eventually(async () => (await by('co-presence').getAttribute('data-status')) === 'online', 10000, `${who.name} online`);
  const id = await page.evaluate(async () => (await (await fetch('/v1/console/me')).json()).id);
  return { page, context, by, id, errors, tones: () => page.evaluate(() => window.__tones) };
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

test('two operators and a visitor: assignment, transfer, a chime, and closed tabs reach the visitor at once', async () => {
  const visitor = await openPage(stack, '/plain');
  const w = widget(visitor.page);
  await w.open();
  const state = () => w.byTestId('pl-wait-line').getAttribute('data-state');
  assert.equal(await state(), 'nobody_online', 'nobody is there yet');

  const ann = await onlineConsole(ANN);
  const cara = await onlineConsole(CARA);
  // The visitor's open panel learns it without a reload.
  await eventually(async () => (await state()) === 'open', 25000, 'the open panel says someone is there');

  await w.byTestId('pl-tab-chat').click();
  const first = `Do you ship to Riga? ${Math.random().toString(36).slice(2, 8)}`;
  await visitorSends(w, first);
  const [row] = stack.query(`select id, assignee from conversations order by created_ms desc limit 1`);
  assert.ok([ann.id, cara.id].includes(row.assignee), `assigned to an online operator with room (${row.assignee})`);
  const [holder, colleague, colleagueWho] = row.assignee === ann.id ? [ann, cara, CARA] : [cara, ann, ANN];

  // The holder opens it and transfers it from the list, which names the colleague as online.
  await holder.by('co-view-mine').click();
  await holder.by('co-inbox-item').filter({ hasText: first }).click();
  // The list is fetched for each conversation opened; the one drawn before may be a moment old.
  const option = holder.by('co-transfer').locator(`option[value="${colleague.id}"]`);
  await eventually(
    async () => (await option.count()) === 1 && (await option.innerText()) === `${colleagueWho.name} — online, 0 of 3 chats`,
    10000,
    'the transfer list names the colleague as online',
  );
  await holder.by('co-transfer').selectOption(colleague.id);
  await eventually(async () => (await holder.by('co-transferred').innerText()) === `Now with ${colleagueWho.name}.`, 10000, 'transfer confirmed');
  assert.equal(stack.query(`select assignee from conversations where id = '${row.id}'`)[0].assignee, colleague.id);
  await colleague.by('co-view-mine').click();
  const mine = colleague.by('co-inbox-item').filter({ hasText: first });
  // The list on screen before the view switched may still show the old holder for a moment.
  await eventually(
    async () => (await mine.count()) === 1 && (await mine.getByTestId('co-inbox-assignee').innerText()).trim() === `With ${colleagueWho.name}`,
    10000,
    'Mine shows it with the colleague',
  );

  // A visitor message the colleague is not looking at: a chime (two tones).
  const before = await colleague.tones();
  await visitorSends(w, 'Hello again?');
  await eventually(async () => (await colleague.tones()) >= before + 2, 10000, 'the chime played');
  // Turned off, it stays quiet; the message still arrives (the tab title counts it).
  await colleague.by('co-sound').click();
  assert.equal(await colleague.by('co-sound').getAttribute('aria-pressed'), 'false');
  const quiet = await colleague.tones();
  const title = await colleague.page.title();
  await visitorSends(w, 'Anyone?');
  await eventually(async () => (await colleague.page.title()) !== title, 10000, 'the tab title counts the message');
  assert.equal(await colleague.tones(), quiet, 'no sound once turned off');
  // The choice survives a reload (kept in this browser).
  await colleague.page.reload();
  await colleague.by('co-sound').waitFor({ timeout: 10000 });
  assert.equal(await colleague.by('co-sound').getAttribute('aria-pressed'), 'false');

  // Both close their tabs: away at once, and the visitor's panel no longer says someone is there.
  assert.deepEqual([...ann.errors, ...cara.errors], []);
  await ann.page.close({ runBeforeUnload: true });
  await cara.page.close({ runBeforeUnload: true });
  const closed = Date.now();
  await eventually(async () => (await state()) === 'nobody_online', 25000, 'the visitor panel changes state');
  const seconds = (Date.now() - closed) / 1000;
  assert.ok(seconds < 40, `within the panel's refresh, well before the 60 s expiry (${seconds.toFixed(1)} s)`);
  await ann.context.close();
  await cara.context.close();
  await visitor.context.close();
});
