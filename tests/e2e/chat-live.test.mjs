// Live chat, visitor side: operator replies over the event stream (no polling), a cut stream
// resumed with nothing lost or doubled, a server restart between messages, a reload
// mid-conversation, two tabs sharing one stream,
// the launcher's unread count, typing both ways, and the rating after the operator closes.
// The operator acts through the real console API (operator bearer token).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request as httpRequest } from 'node:http';
import { chromium } from 'playwright-core';
import { startStack, widget, eventually, wait, operatorReply, CHROMIUM_ARGS, OPERATOR_TOKEN } from './harness.mjs';

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
  const logs = [];
  context.on('request', (r) => requests.push(r.url()));
  return {
    context,
    requests,
    errors,
    logs,
    async tab() {
      const page = await context.newPage();
      page.on('pageerror', (e) => errors.push(String(e)));
      page.on('console', (m) => m.type() === 'error' && logs.push(`${m.text()} @ ${m.location().url}`));
      await page.goto(`${stack.host}/plain`);
      const w = widget(page);
      w.page = page;
      w.logs = logs;
      const open = w.open.bind(w);
      // Opening moves focus into the panel once the frame hears of it, which can be just after
      // the panel shows: wait for that, so the panel knows it is open (unread counting).
      w.open = async () => {
        await page.bringToFront();
        await open();
        await eventually(() => w.frame.locator('#pl-title').evaluate(() => document.activeElement !== document.body), 10000, 'focus in the panel');
      };
      return w;
    },
    streams: () => requests.filter((u) => EVENTS.test(u)),
    polls: () => requests.filter((u) => POLL.test(u)),
  };
}

/**
 * Types `text` into the composer. Typed text goes to the frame the browser thinks is focused;
 * right after a click into this cross-origin (out-of-process) frame, Chromium sometimes still
 * routes it to the host page, so a keystroke-less fallback sets the text as an input event
 * would. (Typing itself is covered by the typing test.)
 */
async function type(w, text) {
  const input = w.byTestId('pl-chat-input');
  await w.page.bringToFront();
  await input.click();
  await input.fill(text);
  if ((await input.inputValue()) === text) return;
  await input.evaluate((el, t) => {
    el.value = t;
    el.dispatchEvent(new InputEvent('input', { bubbles: true, inputType: 'insertText', data: t }));
  }, text);
}

async function send(w, text) {
  await type(w, text);
  await w.byTestId('pl-chat-send').click();
  await eventually(
    async () => (await w.frame.locator('[data-testid="pl-chat-message"][data-status="sent"]').filter({ hasText: text }).count()) === 1,
    10000,
    `"${text}" acknowledged`,
  ).catch(async (e) => {
    const states = await w.frame.locator('[data-testid="pl-chat-message"]').evaluateAll((els) => els.map((el) => `${el.dataset.status}: ${el.textContent}`));
    const input = await w.byTestId('pl-chat-input').inputValue().catch((x) => String(x));
    const problem = await w.frame.locator('[data-testid="pl-chat-error"]').allTextContents();
    throw new Error(`${e.message}; shown: ${JSON.stringify(states)}; input: ${input}; error: ${problem}; console: ${JSON.stringify(w.logs)}`);
  });
}

/** The newest conversation's id (the one the visitor just started). */
function latestConversation() {
  return stack.query('select id from conversations order by created_ms desc, rowid desc limit 1')[0].id;
}

/** An operator reply through the real console API. */
const operatorSays = (conversation, body) => operatorReply(stack, conversation, body);

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

/**
 * A pass-through proxy for event streams, so a test can cut the ones that are open (routes
 * only see new requests, and offline emulation leaves open connections alone). It records the
 * `Last-Event-ID` of each stream request.
 */
async function streamProxy() {
  const target = new URL(stack.widget);
  const open = new Set();
  const lastEventIds = [];
  const server = createServer((req, res) => {
    lastEventIds.push(req.headers['last-event-id'] ?? null);
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
    open.add(req.socket);
    req.socket.on('close', () => open.delete(req.socket));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    lastEventIds,
    url: (u) => {
      const url = new URL(u);
      url.port = String(server.address().port);
      return url.toString();
    },
    cut() {
      for (const socket of open) socket.destroy();
    },
    close: () => new Promise((r) => server.close(r)),
  };
}

test('the event stream is cut mid-conversation and comes back: nothing lost, nothing twice', async () => {
  const proxy = await streamProxy();
  const v = await visitor();
  let blocked = false;
  await v.context.route(EVENTS, (route) =>
    blocked ? route.abort('internetdisconnected') : route.continue({ url: proxy.url(route.request().url()) }),
  );
  const w = await v.tab();
  await w.open();
  await send(w, 'My parcel is late');
  const conversation = latestConversation();
  await eventually(() => v.streams().length === 1, 10000, 'the event stream opened');
  await operatorSays(conversation, 'Let me check.');
  await operatorSays(conversation, 'What is the order number?');
  await showsExactly(w, ['My parcel is late', 'Let me check.', 'What is the order number?']);
  const lastSeen = stack.query(`select max(id) as id from messages where conversation_id = '${conversation}'`)[0].id;

  // The connection drops, and reconnecting fails for a while.
  blocked = true;
  proxy.cut();
  await operatorSays(conversation, 'Are you still there?');
  await operatorSays(conversation, 'I found it: it ships today.');
  const cutAt = v.streams().length;
  await eventually(() => v.streams().length > cutAt, 10000, 'a refused reconnection attempt');
  assert.deepEqual(await shown(w), ['My parcel is late', 'Let me check.', 'What is the order number?'], 'nothing arrives while cut');

  // Back: the browser's own reconnection resumes after the last id it saw.
  blocked = false;
  await operatorSays(conversation, 'Anything else?');
  const all = [
    'My parcel is late',
    'Let me check.',
    'What is the order number?',
    'Are you still there?',
    'I found it: it ships today.',
    'Anything else?',
  ];
  await showsExactly(w, all, 30000);
  assert.ok(proxy.lastEventIds.includes(String(lastSeen)), `resumed with Last-Event-ID ${lastSeen}: ${proxy.lastEventIds}`);
  // And stays so: no later replay or poll adds anything.
  await wait(1000);
  assert.deepEqual(await shown(w), all);
  assert.equal(stack.query(`select count(*) as n from messages where conversation_id = '${conversation}'`)[0].n, 6);
  assert.deepEqual(v.errors, []);
  await v.context.close();
  await proxy.close();
});

test('a server restart between messages: what was written meanwhile goes out by itself, once, and replies arrive', async () => {
  const v = await visitor();
  const w = await v.tab();
  await w.open();
  await send(w, 'Before the restart');
  const conversation = latestConversation();
  await operatorSays(conversation, 'Reply before the restart');
  await showsExactly(w, ['Before the restart', 'Reply before the restart']);

  const body = `Written while the server was down ${Date.now()}`;
  await stack.restartServer(async () => {
    await type(w, body);
    await w.byTestId('pl-chat-send').click();
    await eventually(
      async () => (await w.frame.locator('[data-testid="pl-chat-message"][data-status="failed"]').filter({ hasText: body }).count()) === 1,
      10000,
      'shown as not sent while the server is down',
    );
    // Down long enough for the automatic retry to fail at least once more.
    await wait(2500);
  });

  // Back up: the message goes out by itself (no click, no reload), under its client id.
  await eventually(() => stack.query(`select count(*) as n from messages where body = '${body}'`)[0].n === 1, 30000, 'stored after the restart');
  await eventually(
    async () => (await w.frame.locator('[data-testid="pl-chat-message"][data-status="sent"]').filter({ hasText: body }).count()) === 1,
    10000,
    'shown as sent',
  );
  await operatorSays(conversation, 'Reply after the restart');
  const all = ['Before the restart', 'Reply before the restart', body, 'Reply after the restart'];
  await showsExactly(w, all, 30000);
  await wait(1000);
  assert.deepEqual(await shown(w), all, 'nothing shown twice later');
  assert.deepEqual(
    stack.query(`select body from messages where conversation_id = '${conversation}' order by id`).map((r) => r.body),
    all,
    'each message stored once, in order',
  );
  assert.deepEqual(v.errors, []);
  await v.context.close();
});

test('a message written while the API is unreachable survives a reload and is stored exactly once', async () => {
  const v = await visitor();
  const w = await v.tab();
  await w.open();
  const START = /\/v1\/sites\/e2e\/conversations$/;
  await v.context.route(START, (route) => route.abort());
  const body = `Written offline, kept across a reload ${Date.now()}`;
  await type(w, body);
  await w.byTestId('pl-chat-send').click();
  await eventually(
    async () => (await w.frame.locator('[data-testid="pl-chat-message"][data-status="failed"]').filter({ hasText: body }).count()) === 1,
    10000,
    'shown as not sent',
  );
  assert.equal(stack.query(`select count(*) as n from messages where body = '${body}'`)[0].n, 0);

  // Back online, the visitor reloads: the message goes out by itself, under its client id.
  await v.context.unroute(START);
  await w.page.reload();
  await eventually(() => stack.query(`select count(*) as n from messages where body = '${body}'`)[0].n === 1, 15000, 'stored');
  await w.open();
  await eventually(
    async () => (await w.frame.locator('[data-testid="pl-chat-message"][data-status="sent"]').filter({ hasText: body }).count()) === 1,
    10000,
    'shown as sent after the reload',
  );
  // And never twice: another reload sends nothing more.
  await w.page.reload();
  await w.open();
  await wait(1000);
  assert.equal(stack.query(`select count(*) as n from messages where body = '${body}'`)[0].n, 1);
  assert.deepEqual(v.errors, []);
  await v.context.close();
});

/** The launcher's unread count as the loader shows it. */
const unread = (w) => w.launcher.getAttribute('data-unread');

test('a reload mid-conversation resumes it: the history once, what came meanwhile, then live', async () => {
  const v = await visitor();
  const w = await v.tab();
  await w.open();
  await send(w, 'Hi before the reload');
  const conversation = latestConversation();
  await operatorSays(conversation, 'Reply one');
  await showsExactly(w, ['Hi before the reload', 'Reply one']);

  await w.page.reload();
  await operatorSays(conversation, 'Sent during the reload');
  // Seen before the reload: not unread; the one that came after is.
  await eventually(async () => (await unread(w)) === '1', 15000, 'one unread after the reload');
  await w.open();
  await showsExactly(w, ['Hi before the reload', 'Reply one', 'Sent during the reload']);
  await eventually(async () => (await unread(w)) === '0', 5000, 'read once the panel is open');

  await send(w, 'Still me, after the reload');
  await operatorSays(conversation, 'Reply two');
  await showsExactly(w, ['Hi before the reload', 'Reply one', 'Sent during the reload', 'Still me, after the reload', 'Reply two']);
  const rows = stack.query(`select distinct conversation_id as id from messages where body like 'Still me%'`);
  assert.deepEqual(rows, [{ id: conversation }], 'the same conversation carries on');
  assert.deepEqual(v.errors, []);
  await v.context.close();
});

test('the visitor deletes the conversation: asked once, erased on the server, gone after a reload, and a new message starts afresh', async () => {
  const v = await visitor();
  const w = await v.tab();
  await w.open();
  await send(w, 'Please forget me after this');
  const conversation = latestConversation();
  await operatorSays(conversation, 'Of course');
  await showsExactly(w, ['Please forget me after this', 'Of course']);

  // Asked first; "Keep it" keeps it and has the focus (the safe answer).
  await w.byTestId('pl-chat-delete').click();
  assert.match(await w.frame.locator('#pl-forget-q').innerText(), /cannot be undone/);
  assert.equal(await w.byTestId('pl-chat-delete-no').evaluate((el) => document.activeElement === el), true);
  await w.byTestId('pl-chat-delete-no').click();
  assert.equal(stack.query(`select count(*) as n from messages where conversation_id = '${conversation}'`)[0].n, 2);

  await w.byTestId('pl-chat-delete').click();
  await w.byTestId('pl-chat-delete-yes').click();
  await w.byTestId('pl-chat-deleted').waitFor({ timeout: 10000 });
  await showsExactly(w, []);
  assert.equal(stack.query(`select count(*) as n from conversations where id = '${conversation}'`)[0].n, 0);
  assert.equal(stack.query(`select count(*) as n from messages where conversation_id = '${conversation}'`)[0].n, 0);
  assert.deepEqual(stack.query(`select action, selector, actor from audit_log where action = 'visitor_erase' order by id desc limit 1`), [
    { action: 'visitor_erase', selector: 'conversation', actor: 'visitor' },
  ]);

  // Nothing of it comes back after a reload; the next message is a new conversation.
  await w.page.reload();
  await w.open();
  await showsExactly(w, []);
  assert.equal(await w.byTestId('pl-chat-delete').count(), 0, 'nothing to delete');
  await send(w, 'A new question');
  assert.notEqual(latestConversation(), conversation);
  assert.deepEqual(v.errors, []);
  await v.context.close();
});

test('the chime for replies is off until the visitor turns it on; then one reply rings once over two tabs, and the choice survives a reload', async () => {
  const v = await visitor();
  // Counts the tones the widget starts (Web Audio), in every frame of every tab.
  await v.context.addInitScript(() => {
    window.__tones = 0;
    const start = OscillatorNode.prototype.start;
    OscillatorNode.prototype.start = function (...args) {
      window.__tones += 1;
      return start.apply(this, args);
    };
  });
  const tones = (w) => w.frame.locator('body').evaluate(() => window.__tones);
  const soundKeys = (w) => w.frame.locator('body').evaluate(() => Object.keys(localStorage).filter((k) => k.endsWith('/sound')));
  const a = await v.tab();
  await a.open();
  const sound = a.byTestId('pl-chat-sound');
  assert.equal(await sound.isChecked(), false, 'off by default');
  assert.equal(await a.frame.locator('label[for="pl-chat-sound"]').innerText(), 'Play a sound for new replies');
  await send(a, 'Anyone there?');
  const conversation = latestConversation();
  await operatorSays(conversation, 'A quiet reply');
  await showsExactly(a, ['Anyone there?', 'A quiet reply']);
  await wait(500);
  assert.equal(await tones(a), 0, 'no sound unless the visitor turns it on');
  assert.deepEqual(await soundKeys(a), [], 'and nothing stored for it');

  await sound.check();
  assert.equal((await soundKeys(a)).length, 1, 'the choice is kept in the frame');
  const b = await v.tab();
  await b.open();
  assert.equal(await b.byTestId('pl-chat-sound').isChecked(), true, 'another tab shows the choice');
  await showsExactly(b, ['Anyone there?', 'A quiet reply']);
  await operatorSays(conversation, 'Ding');
  await showsExactly(a, ['Anyone there?', 'A quiet reply', 'Ding']);
  await showsExactly(b, ['Anyone there?', 'A quiet reply', 'Ding']);
  await eventually(async () => (await tones(a)) + (await tones(b)) === 1, 5000, 'one tone');
  await wait(1000);
  assert.equal((await tones(a)) + (await tones(b)), 1, 'one tab rings, once');

  await b.page.reload();
  await b.open();
  assert.equal(await b.byTestId('pl-chat-sound').isChecked(), true, 'the choice survives a reload');
  await b.byTestId('pl-chat-sound').uncheck();
  assert.deepEqual(await soundKeys(b), [], 'turning it off forgets it');
  assert.deepEqual(v.errors, []);
  await v.context.close();
});

test('two tabs stay in sync over one stream, and the other tab takes over when the first closes', async () => {
  const v = await visitor();
  const a = await v.tab();
  const b = await v.tab();
  await a.open();
  await b.open();
  await send(a, 'Written in tab A');
  const conversation = latestConversation();
  await showsExactly(b, ['Written in tab A']);
  await operatorSays(conversation, 'Hello to both tabs');
  await showsExactly(a, ['Written in tab A', 'Hello to both tabs']);
  await showsExactly(b, ['Written in tab A', 'Hello to both tabs']);

  await send(b, 'Written in tab B');
  await showsExactly(a, ['Written in tab A', 'Hello to both tabs', 'Written in tab B']);
  await showsExactly(b, ['Written in tab A', 'Hello to both tabs', 'Written in tab B']);
  assert.equal(v.streams().length, 1, 'one stream for both tabs');

  // Tab A held the stream; tab B opens one and carries on.
  await a.page.close();
  await eventually(() => v.streams().length === 2, 10000, 'tab B took the stream over');
  await operatorSays(conversation, 'Still there?');
  await showsExactly(b, ['Written in tab A', 'Hello to both tabs', 'Written in tab B', 'Still there?']);
  assert.deepEqual(v.errors, []);
  await v.context.close();
});

test('unread operator messages reach the launcher while the panel is closed, in every tab', async () => {
  const v = await visitor();
  const a = await v.tab();
  const b = await v.tab();
  await a.open();
  await send(a, 'Can you call me?');
  const conversation = latestConversation();
  await a.byTestId('pl-close').click();
  await operatorSays(conversation, 'Sure, when?');
  await operatorSays(conversation, 'We are open until 18:00.');
  await eventually(async () => (await unread(a)) === '2', 10000, 'two unread in tab A');
  await eventually(async () => (await unread(b)) === '2', 10000, 'two unread in tab B');
  assert.equal(await a.page.locator('porchlight-widget').evaluate((el) => el.shadowRoot.querySelector('.u')?.textContent), '2');

  // Read in tab A: both badges clear.
  await a.open();
  await eventually(async () => (await unread(a)) === '0', 5000, 'tab A cleared');
  await eventually(async () => (await unread(b)) === '0', 5000, 'tab B cleared');
  assert.deepEqual(v.errors, []);
  await v.context.close();
});

/** The operator console's event stream, read in the background (what an operator's console hears). */
async function consoleEvents() {
  const controller = new AbortController();
  const res = await fetch(`${stack.widget}/v1/console/events`, {
    headers: { authorization: `Bearer ${OPERATOR_TOKEN}` },
    signal: controller.signal,
  });
  assert.equal(res.status, 200);
  const events = [];
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = {};
        for (const line of block.split('\n')) {
          if (line.startsWith('event:')) event.type = line.slice(6).trim();
          if (line.startsWith('data:')) event.data = JSON.parse(line.slice(5));
        }
        if (event.type) events.push(event);
      }
    }
  })().catch(() => {});
  return { events, close: () => controller.abort() };
}

test("typing both ways: the operator's in a polite live region, the visitor's reaches the console, throttled", async () => {
  const v = await visitor();
  const w = await v.tab();
  await w.open();
  await send(w, 'Quick question');
  const conversation = latestConversation();
  await eventually(() => v.streams().length === 1, 10000, 'the event stream opened');
  const typing = w.byTestId('pl-chat-typing');
  assert.equal(await typing.getAttribute('aria-live'), 'polite');
  assert.equal((await typing.textContent()).trim(), '');

  const signal = () => stack.operator('POST', `/v1/console/conversations/${conversation}/typing`);
  assert.equal((await signal()).status, 204);
  await eventually(async () => /is typing/.test(await typing.textContent()), 5000, "the operator's typing shown");
  // Gone a few seconds after the last signal...
  await eventually(async () => (await typing.textContent()).trim() === '', 8000, 'typing hidden after a while');
  // ... and at once when their message arrives.
  await signal();
  await eventually(async () => /is typing/.test(await typing.textContent()), 5000, 'typing shown again');
  await operatorSays(conversation, 'Go ahead.');
  await eventually(async () => (await typing.textContent()).trim() === '', 1500, 'typing hidden by the message');

  const operator = await consoleEvents();
  try {
    const input = w.byTestId('pl-chat-input');
    await input.click();
    await input.pressSequentially('Is it waterproof', { delay: 40 });
    if ((await input.inputValue()) !== 'Is it waterproof') {
      // The keystrokes went to the host page (see `type`): the same input events, one by one.
      await input.evaluate(async (el, text) => {
        el.value = '';
        for (const c of text) {
          el.value += c;
          el.dispatchEvent(new InputEvent('input', { bubbles: true, inputType: 'insertText', data: c }));
          await new Promise((r) => setTimeout(r, 40));
        }
      }, 'Is it waterproof');
    }
    await eventually(
      () => operator.events.some((e) => e.type === 'typing' && e.data.conversation_id === conversation && e.data.typing?.author === 'visitor'),
      5000,
      "the visitor's typing reached the console",
    );
  } finally {
    operator.close();
  }
  // 16 keystrokes in well under two seconds: at most two signals.
  const posts = v.requests.filter((u) => u.endsWith(`/conversations/${conversation}/typing`)).length;
  assert.ok(posts >= 1 && posts <= 2, `${posts} typing signals`);
  assert.deepEqual(v.errors, []);
  await v.context.close();
});

test('the operator closes the conversation: one click rates it, stored with the conversation', async () => {
  const v = await visitor();
  const w = await v.tab();
  await w.open();
  await send(w, 'Thanks, that was all');
  const conversation = latestConversation();
  await operatorSays(conversation, 'Glad to help!');
  await showsExactly(w, ['Thanks, that was all', 'Glad to help!']);
  // Someone answered: the header says who the visitor is talking to, not how long to wait.
  await eventually(async () => (await w.byTestId('pl-wait-line').getAttribute('data-state')) === 'talking', 5000, 'header names the chat');
  assert.match(await w.byTestId('pl-wait-line').innerText(), /^Chatting with /);
  assert.equal(await w.byTestId('pl-wait-callback').count(), 0, 'no "prefer a callback?" under a live chat');
  assert.equal(await w.byTestId('pl-chat-ended').count(), 0);

  const closed = await stack.operator('POST', `/v1/console/conversations/${conversation}/close`);
  assert.equal(closed.status, 200);
  await w.byTestId('pl-chat-ended').waitFor({ timeout: 10000 });
  assert.match(await w.byTestId('pl-chat-ended').innerText(), /chat has ended/);
  await w.byTestId('pl-chat-rating-good').check();
  await w.byTestId('pl-chat-rating-thanks').waitFor({ timeout: 10000 });
  const rows = await eventually(() => {
    const r = stack.query(`select value, context_kind, context_ref from ratings where context_ref = '${conversation}'`);
    return r.length === 1 && r;
  }, 10000, 'the rating stored');
  assert.deepEqual(rows[0], { value: 'good', context_kind: 'chat', context_ref: conversation });
  // The Rate tab's own rating is a separate one, still unrated.
  assert.equal(await w.byTestId('pl-rating-good').isChecked(), false);

  // After a reload the ended chat still shows its rating as given.
  await w.page.reload();
  await w.open();
  await showsExactly(w, ['Thanks, that was all', 'Glad to help!']);
  await w.byTestId('pl-chat-ended').waitFor({ timeout: 10000 });
  assert.equal(await w.byTestId('pl-chat-rating-good').isChecked(), true);

  // Writing again reopens the same conversation (history intact, back in the inbox); the ended
  // prompt goes.
  await send(w, 'Actually, one more thing');
  const next = latestConversation();
  assert.equal(next, conversation);
  await eventually(async () => stack.query(`select closed_ms from conversations where id = '${conversation}'`)[0].closed_ms === null, 5000, 'reopened');
  await eventually(async () => (await w.byTestId('pl-chat-ended').count()) === 0, 5000, 'the prompt is gone');
  assert.equal(stack.query(`select count(*) as n from ratings where context_ref = '${conversation}'`)[0].n, 1);
  assert.deepEqual(v.errors, []);
  await v.context.close();
});

test('with frame storage blocked (Chromium default), replies still arrive live over one stream', async () => {
  // The harness browser: third-party-cookie deprecation on, so the frame gets no storage (and
  // may be refused Web Locks): it holds its own stream and nothing is saved.
  const v = await visitor(stack.browser);
  const w = await v.tab();
  await w.open();
  await send(w, 'Hello from a strict browser');
  const conversation = latestConversation();
  await eventually(() => v.streams().length === 1, 10000, 'the event stream opened');
  await operatorSays(conversation, 'Hello, strict browser.');
  await showsExactly(w, ['Hello from a strict browser', 'Hello, strict browser.'], 5000);
  assert.deepEqual(v.polls(), []);
  assert.equal(v.streams().length, 1);
  assert.deepEqual(v.errors, []);
  await v.context.close();
});

test('when the event stream keeps failing, polling takes over and replies still arrive once', async () => {
  const v = await visitor();
  // Something between the visitor and us refuses event streams (a proxy, a filter).
  await v.context.route(EVENTS, (route) => route.abort('failed'));
  const w = await v.tab();
  await w.open();
  await send(w, 'Behind a strict proxy');
  const conversation = latestConversation();
  await eventually(() => v.polls().length > 0, 40000, 'polling started');
  assert.ok(v.streams().length >= 4, `${v.streams().length} stream attempts before polling`);
  await operatorSays(conversation, 'We hear you anyway.');
  await showsExactly(w, ['Behind a strict proxy', 'We hear you anyway.'], 15000);
  await wait(6000);
  assert.deepEqual(await shown(w), ['Behind a strict proxy', 'We hear you anyway.'], 'later polls add nothing');
  assert.deepEqual(v.errors, []);
  await v.context.close();
});
