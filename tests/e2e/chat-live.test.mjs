// Live chat, visitor side: operator replies over the event stream (no polling), a cut stream
// resumed with nothing lost or doubled, a reload mid-conversation, two tabs sharing one stream,
// the launcher's unread count, typing both ways, and the rating after the operator closes.
// The operator acts through the real console API (operator bearer token).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { startStack, widget, eventually, wait, CHROMIUM_ARGS } from './harness.mjs';

let stack;
let browser;
before(async () => {
  stack = await startStack({ siteKeys: 'presence_default = "online"' });
  // Chromium 156 with third-party-cookie deprecation denies the cross-site frame its storage,
  // and with it the saved conversation, Web Locks and BroadcastChannel. These tests run with
  // that deprecation off, like a regular profile today (README, "third-party storage").
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [...CHROMIUM_ARGS, '--disable-features=TrackingProtection3pcd,ThirdPartyCookieDeprecation'],
  });
});
after(async () => {
  await browser?.close();
  await stack?.stop();
});

const EVENTS = /\/v1\/sites\/e2e\/conversations\/[^/]+\/events/;
const POLL = /\/v1\/sites\/e2e\/conversations\/[^/]+\/messages\?after=/;

/** A visitor's browser context; every request of its pages and frames is recorded. */
async function visitor(b = browser) {
  const context = await b.newContext({ viewport: { width: 1280, height: 800 } });
  const requests = [];
  const errors = [];
  context.on('request', (r) => requests.push(r.url()));
  return {
    context,
    requests,
    errors,
    async tab() {
      const page = await context.newPage();
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(`${stack.host}/plain`);
      const w = widget(page);
      w.page = page;
      return w;
    },
    streams: () => requests.filter((u) => EVENTS.test(u)),
    polls: () => requests.filter((u) => POLL.test(u)),
  };
}

async function send(w, text) {
  await w.byTestId('pl-chat-input').fill(text);
  await w.byTestId('pl-chat-send').click();
  await eventually(
    async () => (await w.frame.locator('[data-testid="pl-chat-message"][data-status="sent"]').filter({ hasText: text }).count()) === 1,
    10000,
    `"${text}" acknowledged`,
  );
}

/** The newest conversation's id (the one the visitor just started). */
function latestConversation() {
  return stack.query('select id from conversations order by created_ms desc, rowid desc limit 1')[0].id;
}

let replies = 0;
async function operatorSays(conversation, body) {
  replies += 1;
  const res = await stack.operator('POST', `/v1/console/conversations/${conversation}/messages`, {
    client_id: `op-${Date.now()}-${replies}`,
    body,
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
}

/** The texts of the messages shown in a widget, in order. */
async function shown(w) {
  return w.frame.locator('[data-testid="pl-chat-message"] .pl-msg-body').evaluateAll((els) =>
    els.map((e) => e.textContent.replace(/^Reply:\s*/, '').trim()),
  );
}

/** Waits until the widget shows exactly `expected` (in order) and nothing else. */
async function showsExactly(w, expected, timeout = 15000) {
  let last = [];
  try {
    await eventually(async () => {
      last = await shown(w);
      return JSON.stringify(last) === JSON.stringify(expected);
    }, timeout);
  } catch (e) {
    assert.deepEqual(last, expected, e.message);
  }
}

test('an operator reply arrives over the event stream at once, without polling', async () => {
  const v = await visitor();
  const w = await v.tab();
  await w.open();
  await send(w, 'Hello, is anyone there?');
  const conversation = latestConversation();
  await eventually(() => v.streams().length === 1, 10000, 'the event stream opened');
  assert.ok(v.streams()[0].includes('token='), 'EventSource carries the token in the query');

  const started = Date.now();
  await operatorSays(conversation, 'Hi! Olga here.');
  await w.frame.locator('[data-testid="pl-chat-message"][data-author="operator"]').filter({ hasText: 'Olga here' }).waitFor({ timeout: 4000 });
  const took = Date.now() - started;
  assert.ok(took < 4000, `shown after ${took} ms`);
  assert.deepEqual(v.polls(), [], 'nothing polled while the stream is up');
  assert.equal(v.streams().length, 1, 'one stream');
  assert.deepEqual(v.errors, []);
  await v.context.close();
});
