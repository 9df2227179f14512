/*! Porchlight loader: draws the launcher, loads the widget frame on intent or idle. */
// Hand-written and dependency-free so it stays under 2 KB brotli. Rules it keeps for the host page:
// - its only global is window.Porchlight (a command queue);
// - no storage, no cookies, no WASM until the visitor shows intent or the page is idle;
// - styles only through a constructable stylesheet in its own shadow root (allowed by a strict
//   CSP that blocks inline <style>), so nothing leaks in or out;
// - it talks to the frame by postMessage with an exact target origin and checks every reply.
(function (w, d) {
  'use strict';
  var stub = w.Porchlight;
  if (stub && stub.loaded) return; // the tag was pasted twice
  var script = d.currentScript;
  var site = script?.getAttribute('data-site');
  if (!site) {
    console.warn('Porchlight: no data-site');
    return;
  }

  var src = new URL(script.src, location.href);
  var widgetOrigin = src.origin;
  var attr = function (name) { return script.getAttribute('data-' + name); };
  var endpoint = attr('endpoint') || widgetOrigin;
  var nav = navigator;
  // Best first: the site's choice, the page's language, the visitor's; the server serves the
  // first one the widget speaks (else English).
  var locales = [attr('locale'), d.documentElement.lang].concat(nav.languages || [nav.language]).filter(Boolean);
  // The launcher's word until the frame sends its texts (the loader carries no other strings).
  var words = { en: 'Help', lv: 'Palīdzība', th: 'ช่วยเหลือ', it: 'Aiuto', eo: 'Helpo', el: 'Βοήθεια', ar: 'مساعدة' };
  var word;
  locales.some(function (l) { return (word = words[l.split(/[-_]/)[0].toLowerCase()]); });
  word = word || words.en;
  var left = attr('position') === 'left';
  var saveData = nav.connection?.saveData;

  var listeners = {};
  var isOpen = false;
  var frame = null;
  var frameReady = false;
  var outbox = []; // messages for the frame until it says it is ready

  // The launcher lives in an element type no host stylesheet targets by tag (div, button…),
  // appended to <html> after <body> so equal-z-index overlays in the body stay beneath it.
  var host = d.createElement('porchlight-widget');
  var root = host.attachShadow({ mode: 'open' });
  var sheet = new CSSStyleSheet();
  // !important inside a shadow tree beats !important from the host page (cascade contexts),
  // which is what keeps `* { all: unset !important }` on the host from breaking us.
  sheet.replaceSync(
    // (`all` resets visibility, opacity, transform, filter and contain too.)
    ':host{all:initial!important;display:block!important;position:fixed!important;z-index:2147483647!important;' +
      'inset:auto 0 0 auto!important;width:0!important;height:0!important}' +
      '.l{position:fixed;bottom:calc(20px + env(safe-area-inset-bottom));right:20px;box-sizing:border-box;min-width:56px;height:56px;padding:0 20px;' +
      'display:flex;align-items:center;gap:8px;border:0;border-radius:28px;background:var(--c,#1d4ed8);color:var(--t,#fff);' +
      'font:600 16px/1 system-ui,sans-serif;box-shadow:0 4px 14px #0000004d}' +
      '.l:focus-visible{outline:3px solid #fbbf24;outline-offset:3px}' +
      // The speech-bubble icon as a clipped box: no SVG elements to build.
      '[part=icon]{width:24px;height:24px;background:currentColor;clip-path:path("M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z")}' +
      // The unread badge (the button's aria-label, from the frame, says it in words).
      '.u{min-width:20px;height:20px;padding:0 5px;box-sizing:border-box;border-radius:10px;background:#b91c1c;color:#fff;font-size:12px;line-height:20px;text-align:center}.u:empty{display:none}' +
      // The status mark: filled green (online), filled amber (busy), a hollow ring (offline);
      // the launcher's aria-label says the same in words.
      '.m{display:none;width:12px;height:12px;border:2px solid #fff;border-radius:50%;box-sizing:border-box}' +
      '[data-state] .m{display:block}[data-state=open] .m{background:#4ade80}[data-state=busy] .m{background:#fbbf24}' +
      '.p{position:fixed;bottom:calc(88px + env(safe-area-inset-bottom));right:20px;width:380px;height:600px;max-height:calc(100vh - 108px);' +
      'border:0;border-radius:12px;background:#fff;box-shadow:0 8px 32px #0000005a;display:none;color-scheme:normal}' +
      '.o .p{display:block}' +
      '.left .l,.left .p{right:auto;left:20px}' +
      // Phones: full screen, clear of the notch and home bar (a frame gets no safe-area insets
      // of its own); the height follows the visual viewport so the keyboard never hides the input.
      '@media (max-width:600px){.p{inset:var(--y,0) 0 auto 0;width:100%;height:var(--h,100%);max-height:none;border-radius:0;box-sizing:border-box;' +
      'padding:env(safe-area-inset-top) env(safe-area-inset-right) env(safe-area-inset-bottom) env(safe-area-inset-left)}.o .l{display:none}}'
  );
  root.adoptedStyleSheets = [sheet];

  var wrap = d.createElement('div');
  wrap.className = left ? 'left' : '';
  var launcher = d.createElement('button');
  launcher.type = 'button';
  launcher.className = 'l';
  // Styling hooks for the host page: ::part(launcher) and ::part(icon) (its own icon as a
  // clip-path or mask, say). `part` forwards a string to the element's token list.
  launcher.part = 'launcher';
  launcher.setAttribute('aria-label', word);
  launcher.setAttribute('aria-expanded', 'false');
  launcher.appendChild(d.createElement('i')).part = 'icon';
  var text = launcher.appendChild(d.createElement('span'));
  text.textContent = word;
  var badge = launcher.appendChild(d.createElement('b'));
  badge.className = 'u';
  launcher.appendChild(d.createElement('i')).className = 'm';
  wrap.appendChild(launcher);
  root.appendChild(wrap);

  function emit(name, detail) {
    (listeners[name] || []).forEach(function (fn) {
      try { fn(detail); } catch (e) { console.error(e); } // a host listener must not break us
    });
  }

  function send(type, extra) {
    var msg = { porchlight: 1, type: type };
    for (var k in extra) msg[k] = extra[k];
    if (frameReady) frame.contentWindow.postMessage(msg, widgetOrigin);
    else outbox.push(msg);
  }

  function loadFrame() {
    if (frame) return;
    var url = new URL('frame', src);
    url.search = new URLSearchParams({ site: site, origin: location.origin, endpoint: endpoint, locale: locales.join() });
    frame = d.createElement('iframe');
    frame.className = 'p';
    frame.title = word;
    frame.src = url.href;
    wrap.appendChild(frame);
  }

  function setOpen(open) {
    if (open === isOpen) return;
    if (open) loadFrame();
    isOpen = open;
    wrap.classList.toggle('o', open);
    launcher.setAttribute('aria-expanded', String(open));
    fit();
    if (open) {
      // Focus only a frame that is up: focusing an iframe whose cross-origin document is still
      // loading can leave Chromium routing keys to the host page, so the visitor's typing
      // would go nowhere. A frame that is not ready yet takes focus when it says `ready`.
      if (frameReady) frame.focus();
      // Context for ratings and chats: the path only (a query string may hold tokens).
      send('open', { path: location.pathname, title: d.title });
    } else {
      send('closed');
      launcher.focus();
    }
    emit(open ? 'open' : 'close', {});
  }

  w.addEventListener('message', function (e) {
    // Only our own frame, from the widget's exact origin, in our envelope.
    if (!frame || e.source !== frame.contentWindow || e.origin !== widgetOrigin) return;
    var m = e.data;
    if (m?.porchlight !== 1) return;
    var type = m.type;
    var n = m.count;
    // Launcher fields, whatever the message type (ready, status, unread, theme). Text goes in
    // only as textContent and attribute values, so even a wrong type cannot become markup.
    if (m.text) text.textContent = m.text;
    if (m.label) launcher.setAttribute('aria-label', m.label);
    if (m.frame_title) frame.title = m.frame_title;
    // The frame fetches availability (a loader fetch could trip the host's CSP).
    if (m.state) launcher.setAttribute('data-state', m.state);
    if (type === 'unread') launcher.setAttribute('data-unread', (badge.textContent = n > 0 ? Math.min(n, 99) : '') || 0);
    // Colours go into custom properties only (the server accepts nothing but #rrggbb).
    if (m.color) {
      wrap.style.setProperty('--c', m.color);
      wrap.style.setProperty('--t', m.text_color);
    }
    if (type === 'ready') {
      frameReady = true;
      if (isOpen) frame.focus();
      outbox.splice(0).forEach(function (msg) { frame.contentWindow.postMessage(msg, widgetOrigin); });
      emit(type, {});
    }
    if (type === 'close') setOpen(false);
    if (type === 'event') emit(m.name, m.detail); // the frame always sends a detail object
  });

  launcher.addEventListener('click', function () { setOpen(!isOpen); });
  // On a phone the on-screen keyboard shrinks only the visual viewport: size the open panel to
  // it so the message box stays above the keyboard.
  var vv = w.visualViewport;
  function fit() {
    if (!vv) return;
    wrap.style.setProperty('--h', isOpen ? vv.height + 'px' : '100%');
    wrap.style.setProperty('--y', isOpen ? vv.offsetTop + 'px' : '0');
  }
  if (vv) {
    vv.addEventListener('resize', fit);
    vv.addEventListener('scroll', fit);
  }
  // Intent: the visitor is about to click, so start fetching the frame now.
  launcher.addEventListener('pointerenter', loadFrame);
  launcher.addEventListener('focus', loadFrame);
  root.addEventListener('keydown', function (e) {
    if (e.key === 'Escape' && isOpen) setOpen(false);
  });

  function whenIdle() {
    if (saveData) return; // on a metered connection, download only on intent
    var idle = w.requestIdleCallback || function (fn) { setTimeout(fn, 3000); };
    idle(loadFrame, { timeout: 10000 });
  }
  if (d.readyState === 'complete') whenIdle();
  else w.addEventListener('load', whenIdle);

  function Porchlight(command, name, fn) {
    if (command === 'open') setOpen(true);
    else if (command === 'close') setOpen(false);
    else if (command === 'toggle') setOpen(!isOpen);
    else if (command === 'on' && typeof fn === 'function') (listeners[name] = listeners[name] || []).push(fn);
    else if (command === 'off') listeners[name] = (listeners[name] || []).filter(function (f) { return f !== fn; });
  }
  Porchlight.loaded = true;
  w.Porchlight = Porchlight;

  function mount() {
    d.documentElement.appendChild(host);
    // Replay what the page queued before we loaded: window.Porchlight.q from the optional stub.
    (stub?.q || []).forEach(function (args) { Porchlight.apply(null, args); });
  }
  if (d.body) mount();
  else d.addEventListener('DOMContentLoaded', mount);
})(window, document);
