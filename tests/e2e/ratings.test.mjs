// Ratings end to end: one click to a row in the real SQLite file, never lost (outbox in the
// frame's storage survives an unreachable API and a reload), never twice (changes update the
// same row), keyboard only, the recovery offer, "Tell us more", undo, and the operator summary.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startStack, openPage, widget, wait, CHROMIUM_ARGS, eventually } from './harness.mjs';

const RATINGS_API = '**/v1/sites/*/ratings**';

let stack;
before(async () => {
  stack = await startStack();
});
after(async () => {
  await stack?.stop();
});


const count = () => stack.query('select count(*) as n from ratings')[0].n;
const newest = () => stack.query('select id, value, comment, undone_ms, context_kind from ratings order by rowid desc limit 1')[0];

async function ratingTab(stackPath = '/plain') {
  const opened = await openPage(stack, stackPath);
  const w = widget(opened.page);
  if (stackPath === '/queue') {
    // The page queued Porchlight('open'): the panel opens by itself.
    await w.byTestId('pl-panel').waitFor({ state: 'visible', timeout: 20000 });
  } else {
    await w.open();
  }
  await w.byTestId('pl-tab-rating').click();
  return { ...opened, w };
}

test('one click records the rating: a row in the database and a spoken thank-you', async () => {
  const before = count();
  const { context, w } = await ratingTab();
  await w.byTestId('pl-rating-good').check();
  const thanks = w.byTestId('pl-rating-thanks');
  await thanks.waitFor({ state: 'visible' });
  assert.equal(await thanks.innerText(), 'Thank you!');
  assert.equal(await thanks.locator('xpath=..').getAttribute('aria-live'), 'polite');
  await eventually(() => count() === before + 1);
  assert.deepEqual(
    { ...newest(), id: undefined },
    { id: undefined, value: 'good', comment: null, undone_ms: null, context_kind: 'standalone' },
  );
  await context.close();
});

/**
 * A browser profile that lets the cross-site frame keep storage, as Chrome's regular profile
 * (third-party cookies allowed), Firefox and Safari (partitioned storage) do. The harness's
 * contexts are incognito-like: Chromium denies a third-party frame `localStorage` there, and the
 * outbox then lives in memory only (it still survives going offline, not a reload).
 */
async function contextWithFrameStorage() {
  const dir = mkdtempSync(join(tmpdir(), 'porchlight-profile-'));
  mkdirSync(join(dir, 'Default'));
  writeFileSync(join(dir, 'Default', 'Preferences'), JSON.stringify({ profile: { cookie_controls_mode: 0, block_third_party_cookies: false } }));
  return chromium.launchPersistentContext(dir, { executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, headless: true });
}

test('API unreachable: the click is kept, survives a reload and lands exactly once', async () => {
  const before = count();
  const context = await contextWithFrameStorage();
  const page = await context.newPage();
  await page.goto(stack.host + '/plain');
  const w = widget(page);
  await w.open();
  await w.byTestId('pl-tab-rating').click();
  await context.route(RATINGS_API, (route) => route.abort());
  await w.byTestId('pl-rating-neutral').check();
  const pending = w.byTestId('pl-rating-pending');
  await pending.waitFor({ state: 'visible' });
  assert.equal(await pending.innerText(), "Saved — we'll send it when you're back online.");
  assert.equal(count(), before, 'nothing reached the server');

  await page.reload();
  const again = widget(page);
  await again.open();
  await again.byTestId('pl-tab-rating').click();
  assert.equal(await again.byTestId('pl-rating-neutral').isChecked(), true, 'the choice is still shown after the reload');
  await again.byTestId('pl-rating-pending').waitFor({ state: 'visible' });
  assert.equal(count(), before, `still nothing while the API is unreachable: ${JSON.stringify(stack.query('select * from ratings'))}`);

  await context.unroute(RATINGS_API);
  await again.byTestId('pl-rating-thanks').waitFor({ state: 'visible', timeout: 15000 });
  await eventually(() => count() === before + 1);
  await wait(2500); // any duplicate retry would have landed by now
  assert.equal(count(), before + 1, 'exactly one row');
  assert.equal(newest().value, 'neutral');
  await context.close();
});

test('a change within the window updates the same row, and the host hears about it', async () => {
  const before = count();
  const { page, context, w } = await ratingTab('/queue');
  await w.byTestId('pl-rating-good').check();
  await w.byTestId('pl-rating-thanks').waitFor({ state: 'visible' });
  const { id } = await eventually(() => count() === before + 1 && newest());

  await w.byTestId('pl-rating-bad').check();
  await w.byTestId('pl-rating-recovery').waitFor({ state: 'visible' });
  await eventually(() => stack.query(`select value from ratings where id = '${id}'`)[0].value === 'bad');
  assert.equal(count(), before + 1, 'no second row');

  const events = await eventually(async () => {
    const all = (await page.evaluate(() => window.__events)).filter((e) => e[0] === 'rating');
    return all.length === 2 && all;
  });
  assert.deepEqual(events, [
    ['rating', { value: 'good', id }],
    ['rating', { value: 'bad', id, changed: '1' }],
  ]);
  await context.close();
});

test('keyboard only: Tab into the group, arrows choose, the choice is recorded', async () => {
  const before = count();
  const { page, context, w } = await openPage(stack, '/plain').then((o) => ({ ...o, w: widget(o.page) }));
  await w.open();
  await w.byTestId('pl-tab-rating').focus();
  await page.keyboard.press('Enter');
  // Tab from the tab list into the Rate panel: the first stop is the radio group.
  let focused = '';
  for (let i = 0; i < 6 && !focused.startsWith('pl-rating-'); i++) {
    await page.keyboard.press('Tab');
    focused = (await w.frame.locator(':focus').getAttribute('data-testid').catch(() => '')) || '';
  }
  assert.equal(focused, 'pl-rating-bad', 'Tab reaches the first radio');
  assert.equal(await w.byTestId('pl-rating-bad').isChecked(), false, 'focus alone does not rate');
  await page.keyboard.press('ArrowRight'); // bad -> neutral
  await page.keyboard.press('ArrowRight'); // neutral -> good
  await w.byTestId('pl-rating-thanks').waitFor({ state: 'visible' });
  assert.equal(await w.byTestId('pl-rating-good').isChecked(), true);
  await eventually(() => count() === before + 1 && newest().value === 'good');
  await context.close();
});

test('a negative rating apologises first, offers only what can happen now, and a change of mind clears the complaint', async () => {
  const { context, w } = await ratingTab();
  await w.byTestId('pl-rating-bad').check();
  const recovery = w.byTestId('pl-rating-recovery');
  await recovery.waitFor({ state: 'visible' });
  // The apology in a neutral tone, no green "Thank you!" for a complaint.
  assert.equal((await w.byTestId('pl-rating-sorry').innerText()).trim(), "We're sorry it wasn't better.");
  assert.equal(await w.byTestId('pl-rating-thanks').count(), 0);
  assert.match(await recovery.innerText(), /Can we help put it right\?/);
  // Nobody is online on this stack: the offer is to leave a message, not a chat "now".
  assert.equal((await w.byTestId('pl-rating-recovery-chat').innerText()).trim(), 'Leave a message');
  // Changing to a good rating clears the complaint box.
  await w.byTestId('pl-rating-comment').fill('The parcel never came');
  await w.byTestId('pl-rating-good').check();
  await w.byTestId('pl-rating-thanks').waitFor({ state: 'visible' });
  await eventually(async () => (await w.byTestId('pl-rating-comment').inputValue()) === '', 5000, 'complaint box cleared');
  await w.byTestId('pl-rating-bad').check();
  await recovery.waitFor({ state: 'visible' });
  await recovery.getByRole('button', { name: 'Call me back' }).click();
  assert.equal(await w.byTestId('pl-tab-callback').getAttribute('aria-selected'), 'true');
  await context.close();
});

test('"Tell us more" reaches the same row; undo takes the rating back', async () => {
  const before = count();
  const { context, w } = await ratingTab();
  await w.byTestId('pl-rating-good').check();
  await w.byTestId('pl-rating-thanks').waitFor({ state: 'visible' });
  const comment = w.byTestId('pl-rating-comment');
  await comment.fill('Quick answer, thank you — "Līga"');
  await eventually(async () => (await w.byTestId('pl-rating-count').innerText()) === '32 / 2000 characters');
  await w.byTestId('pl-rating-comment-send').click();
  await w.byTestId('pl-rating-comment-thanks').waitFor({ state: 'visible' });
  await eventually(() => newest().comment === 'Quick answer, thank you — "Līga"');
  assert.equal(count(), before + 1);

  await w.byTestId('pl-rating-undo').click();
  await w.byTestId('pl-rating-undone').waitFor({ state: 'visible' });
  assert.equal(await w.byTestId('pl-rating-good').isChecked(), false);
  await eventually(() => newest().undone_ms !== null);
  assert.equal(count(), before + 1, 'undo keeps the row (soft delete)');
  await context.close();
});

test('the standalone rating records the host page: its path (no query or fragment) and title', async () => {
  const before = count();
  const { context, w } = await ratingTab('/plain?utm_source=e2e#pricing');
  await w.byTestId('pl-rating-good').check();
  await w.byTestId('pl-rating-thanks').waitFor({ state: 'visible' });
  const row = await eventually(
    () => count() === before + 1 && stack.query('select page_path, page_title, context_kind from ratings order by rowid desc limit 1')[0],
  );
  assert.deepEqual(row, { page_path: '/plain', page_title: 'Plain host', context_kind: 'standalone' });
  await context.close();
});

test('the operator summary reflects the ratings made above', async () => {
  const rows = stack.query('select value from ratings where undone_ms is null');
  const { status, body } = await stack.operator('GET', '/v1/sites/e2e/ratings/summary');
  assert.equal(status, 200);
  console.log(`operator summary: ${JSON.stringify(body)}`);
  assert.equal(body.site, 'e2e');
  assert.equal(body.total, rows.length);
  const counts = Object.fromEntries(body.counts.map((c) => [c.value, c.count]));
  for (const value of ['bad', 'neutral', 'good']) {
    assert.equal(counts[value], rows.filter((r) => r.value === value).length, value);
  }
  assert.equal(body.positive, counts.good);
  assert.equal(body.share_positive, counts.good / rows.length);
  assert.equal(body.per_day.at(-1).total, rows.length, 'all made today');
  // Per page, with the page's title; every rating above was given on a host page.
  const pages = stack.query(
    "select page_path, count(*) as n from ratings where undone_ms is null group by page_path order by page_path",
  );
  const perPage = Object.fromEntries(body.per_page.map((p) => [p.path, p]));
  for (const { page_path, n } of pages) assert.equal(perPage[page_path]?.total, n, page_path);
  assert.equal(perPage['/plain'].title, 'Plain host');
  assert.equal(perPage['/queue'].title, 'Command queue');
});
