// A contact sheet of the panel's states, for anyone to look at: English, Latvian and Arabic, light
// and dark, desktop (1280×800) and phone (390×844); the chat with a live reply, the callback form
// and a booked callback, a negative rating with its apology and comment box. Real server, real
// Chromium, the built widget.
//
//   cargo xtask build && cargo build -p porchlight-server
//   node tests/e2e/tools/contact-sheet.mjs        # → target/contact-sheet/index.html
//
// Not a test: it asserts nothing; the tests assert the same states.

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startStack, widget, eventually } from '../harness.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const out = join(root, 'target/contact-sheet');
mkdirSync(out, { recursive: true });

// Tuesday 10:00 in Riga: open hours, someone online.
const stack = await startStack({ fakeNow: '2026-03-10T10:00:00+02:00', siteKeys: 'presence_default = "online"' });
const shots = [];
try {
  for (const lang of ['en', 'lv', 'ar']) {
    for (const scheme of ['light', 'dark']) {
      for (const [device, viewport] of [['desktop', { width: 1280, height: 800 }], ['phone', { width: 390, height: 844 }]]) {
        const context = await stack.browser.newContext({ viewport, colorScheme: scheme, isMobile: device === 'phone', hasTouch: device === 'phone' });
        const page = await context.newPage();
        await page.goto(`${stack.host}/lang?html=${lang}`);
        const w = widget(page);
        await w.open();
        const shot = async (state) => {
          const file = `${lang}-${scheme}-${device}-${state}.png`;
          await page.waitForTimeout(300);
          await page.screenshot({ path: join(out, file) });
          shots.push({ lang, scheme, device, state, file });
        };

        await w.byTestId('pl-tab-chat').click();
        await w.byTestId('pl-chat-input').fill(lang === 'ar' ? 'مرحبًا، هل الفانوس الأزرق متوفر؟' : lang === 'lv' ? 'Sveiki! Vai zilā laterna ir pieejama?' : 'Hi! Is the blue lantern back in stock?');
        await w.byTestId('pl-chat-send').click();
        await eventually(async () => (await w.byTestId('pl-chat-message').last().getAttribute('data-status')) === 'sent', 10000, 'sent');
        const [{ id }] = stack.query('select id from conversations order by created_ms desc, rowid desc limit 1');
        await stack.operator('POST', `/v1/console/conversations/${id}/messages`, {
          client_id: `sheet-${lang}-${scheme}-${device}`,
          body: lang === 'ar' ? 'نعم، وصل اليوم.' : lang === 'lv' ? 'Jā, tā atkal ir noliktavā.' : 'Yes, it arrived this morning.',
        });
        await w.frame.locator('[data-testid="pl-chat-message"][data-author="operator"]').waitFor({ timeout: 15000 });
        await shot('chat-reply');

        await w.byTestId('pl-tab-callback').click();
        await shot('callback-form');
        await w.byTestId('pl-cb-name').fill(lang === 'ar' ? 'ليلى' : lang === 'lv' ? 'Anna' : 'Ann');
        await w.byTestId('pl-cb-phone').fill('+371 2612 3456');
        await w.byTestId('pl-cb-submit').click();
        await w.byTestId('pl-cb-confirmation').waitFor({ timeout: 15000 });
        await shot('callback-booked');

        await w.byTestId('pl-tab-rating').click();
        await w.byTestId('pl-rating-bad').check();
        await w.byTestId('pl-rating-sorry').waitFor({ timeout: 15000 });
        await shot('rating-bad');
        await context.close();
      }
    }
  }
} finally {
  await stack.stop();
}

const rows = shots
  .map((s) => `<figure><img src="${s.file}" alt="${s.lang} ${s.scheme} ${s.device} ${s.state}" loading="lazy"><figcaption>${s.lang} · ${s.scheme} · ${s.device} · ${s.state}</figcaption></figure>`)
  .join('\n');
writeFileSync(
  join(out, 'index.html'),
  `<!doctype html><meta charset="utf-8"><title>Porchlight panel: contact sheet</title>
<style>body{font:14px system-ui;margin:1rem}main{display:grid;grid-template-columns:repeat(auto-fill,minmax(320px,1fr));gap:1rem}img{width:100%;border:1px solid #ccc}figure{margin:0}</style>
<h1>Porchlight panel: ${shots.length} states</h1><main>${rows}</main>`,
);
console.log(`${shots.length} screenshots: ${join(out, 'index.html')}`);
