// Honest, live wait times (issue 3): the panel's sentence for each state, the launcher's status
// mark, polling only while the panel is open, and the "running late" apology. The server runs on
// a fake clock (--fake-now) and the browser's clock is installed at the same instant, so the
// visitor's "today", "Monday" and "in 14 hours" are what a visitor would see then.

import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { startStack, widget, wait, eventually } from './harness.mjs';

const TUESDAY_10 = '2026-03-10T10:00:00+02:00'; // Riga: within Mon-Fri 09:00-18:00
const SUNDAY_19 = '2026-03-15T19:00:00+02:00'; // closed; opens Monday 09:00, 14 hours later

/** A fresh visitor whose clock starts at `time`, in `timezoneId`, speaking `locale`. */
async function visit(stack, time, { timezoneId = 'Europe/Riga', locale = 'en-GB' } = {}) {
  const context = await stack.browser.newContext({ viewport: { width: 1280, height: 800 }, timezoneId, locale });
  await context.clock.install({ time: new Date(time) });
  const requests = [];
  context.on('request', (r) => requests.push(r));
  const errors = [];
  const page = await context.newPage();
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${stack.host}/plain`);
  const w = widget(page);
  return { context, page, w, requests, errors };
}


const line = (w) => w.byTestId('pl-wait-line');
const stateOf = async (w) => line(w).getAttribute('data-state');
async function waitForState(w, state) {
  try {
    await eventually(async () => (await stateOf(w)) === state);
  } catch {
    assert.fail(`expected ${state}, the line says (${await stateOf(w)}) ${await line(w).innerText()}`);
  }
  return line(w).innerText();
}
const availabilityCalls = (requests) => requests.filter((r) => r.url().endsWith('/v1/sites/e2e/availability'));

/** Writes to the server's SQLite file (the test plays the operator's console, which doesn't exist yet). */
function exec(stack, sql) {
  execFileSync('python3', ['-c', 'import sqlite3,sys\nc=sqlite3.connect(sys.argv[1]);c.execute(sys.argv[2]);c.commit()', stack.db, sql]);
}

describe('a site within business hours', () => {
  let stack;
  before(async () => {
    stack = await startStack({ fakeNow: TUESDAY_10 });
    const res = await stack.operator('PUT', '/v1/sites/e2e/presence', { status: 'online' });
    assert.equal(res.status, 200);
  });
  after(async () => {
    await stack?.stop();
  });

  test('open: the posted wait, a green mark on the launcher with words, and polling only while open', async () => {
    const { context, w, requests, errors } = await visit(stack, TUESDAY_10);
    // The frame preloads when the page is idle and tells the loader; the launcher shows it.
    await w.launcher.hover();
    await eventually(async () => (await w.launcher.getAttribute('data-state')) === 'open');
    assert.match(await w.launcher.getAttribute('aria-label'), /\(online now\)$/);

    await w.open();
    assert.equal(await waitForState(w, 'open'), 'Typically replies in about 4 minutes');
    assert.equal(await w.byTestId('pl-wait-callback').count(), 0, 'no callback push while open');

    // While open: every 30 s, conditional on the last ETag (the server answers 304).
    const before = availabilityCalls(requests).length;
    await context.clock.runFor(31000);
    const polled = await eventually(() => availabilityCalls(requests).length > before && availabilityCalls(requests));
    const last = polled[polled.length - 1];
    assert.match(last.headers()['if-none-match'] || '', /^"[0-9a-f]+"$/);
    const response = await eventually(() => last.response());
    // 304 unless the server's minute (part of the answer) ticked over in between.
    assert.ok([304, 200].includes(response.status()), `status ${response.status()}`);

    // Closed: nothing at all.
    await w.byTestId('pl-close').click();
    await eventually(async () => (await w.launcher.getAttribute('aria-expanded')) === 'false');
    await wait(300); // the loader's "closed" reaches the frame
    const whileClosed = availabilityCalls(requests).length;
    await context.clock.runFor(120000);
    await wait(300);
    assert.equal(availabilityCalls(requests).length, whileClosed, 'no polling while the panel is closed');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('running late: past the wait shown, the panel apologises and offers a callback; an operator reply ends it', async () => {
    const { context, page, w } = await visit(stack, TUESDAY_10);
    await w.open();
    await waitForState(w, 'open');
    await w.byTestId('pl-chat-input').fill('Where is my order?');
    await w.byTestId('pl-chat-send').click();
    await eventually(async () => (await w.byTestId('pl-chat-message').last().getAttribute('data-status')) === 'sent');
    assert.equal(await w.byTestId('pl-late').count(), 0);

    // Four minutes were shown; five pass without a reply.
    await context.clock.fastForward('05:00');
    const late = w.byTestId('pl-late');
    await late.waitFor({ state: 'visible' });
    const text = await late.innerText();
    assert.match(text, /Sorry — this is taking longer than we said\./);
    assert.match(text, /we'll reply by Wednesday at 18:00/);

    // The operator answers through the API the console uses; the event stream delivers it.
    const [conversation] = stack.query(`select id from conversations order by created_ms desc limit 1`);
    const sent = await stack.operator('POST', `/v1/console/conversations/${conversation.id}/messages`, {
      client_id: 'op-00000001',
      body: 'Hi! It ships today.',
    });
    assert.equal(sent.status, 201, JSON.stringify(sent.body));
    await context.clock.runFor(5000);
    const reply = w.byTestId('pl-chat-message').filter({ hasText: 'It ships today.' });
    await reply.waitFor({ state: 'visible' });
    assert.equal(await reply.getAttribute('data-author'), 'operator');
    await late.waitFor({ state: 'detached' });

    await context.clock.fastForward('30:00');
    assert.equal(await w.byTestId('pl-late').count(), 0, 'answered: never late again for that message');
    await page.close();
    await context.close();
  });

  test('busy: a queue of unanswered chats raises the wait and offers a callback that opens the form', async () => {
    const { context, page, w } = await visit(stack, TUESDAY_10);
    // Five visitors waiting for a first reply: the busy queue.
    await page.evaluate(async (origin) => {
      for (let i = 0; i < 5; i++) {
        const res = await fetch(`${origin}/v1/sites/e2e/conversations`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ message: { client_id: `queued-0000${i}`, body: 'Hello?' } }),
        });
        if (!res.ok) throw new Error(`status ${res.status}`);
      }
    }, stack.widget);
    // Availability is computed for the current minute and leaves out chats started after it
    // began: date these a couple of minutes back.
    exec(stack, `update conversations set created_ms = created_ms - 120000 where first_client_id like 'queued-%'`);
    await w.open();
    // 240 s × (2 + 5) / 2 = 840 s.
    assert.equal(await waitForState(w, 'busy'), 'Busy right now: about 14 minutes. Prefer a callback?');
    assert.equal(await w.launcher.getAttribute('data-state'), 'busy');
    assert.match(await w.launcher.getAttribute('aria-label'), /\(busy right now\)$/);
    await w.byTestId('pl-wait-callback').click();
    assert.equal(await w.byTestId('pl-tab-callback').getAttribute('aria-selected'), 'true');
    await context.close();
  });

  test('nobody online: never shown as open; says when a message gets an answer; refreshed when the panel opens', async () => {
    const { context, w } = await visit(stack, TUESDAY_10);
    await w.open();
    await waitForState(w, 'busy');
    await w.byTestId('pl-close').click();
    assert.equal((await stack.operator('PUT', '/v1/sites/e2e/presence', { status: 'away' })).status, 200);
    await w.open(); // opening refreshes at once
    assert.equal(await waitForState(w, 'nobody_online'), "Nobody is online right now. We'll reply by Wednesday at 18:00.");
    await eventually(async () => (await w.launcher.getAttribute('data-state')) === 'nobody_online');
    assert.match(await w.launcher.getAttribute('aria-label'), /\(offline now\)$/);
    await context.close();
  });
});

describe('a closed site', () => {
  let stack;
  before(async () => {
    stack = await startStack({ fakeNow: SUNDAY_19, siteKeys: 'presence_default = "online"' });
  });
  after(async () => {
    await stack?.stop();
  });

  test('closed: when it opens again, in the visitor’s own zone (14 hours off: the day and time, no count of hours)', async () => {
    const riga = await visit(stack, SUNDAY_19);
    await riga.w.open();
    assert.equal(
      await waitForState(riga.w, 'closed'),
      "We're closed. Back Monday at 09:00 (your time). Leave a message or book a callback.",
    );
    assert.equal(await riga.w.launcher.getAttribute('data-state'), 'closed');
    await riga.w.byTestId('pl-wait-callback').waitFor({ state: 'visible' });
    await riga.context.close();

    // A visitor in New York (UTC-4 after 8 March) with a 12-hour clock: 03:00 their Monday.
    const ny = await visit(stack, SUNDAY_19, { timezoneId: 'America/New_York', locale: 'en-US' });
    await ny.w.open();
    assert.equal(
      await waitForState(ny.w, 'closed'),
      "We're closed. Back Monday at 3:00 AM (your time). Leave a message or book a callback.",
    );
    await ny.context.close();
  });
});
