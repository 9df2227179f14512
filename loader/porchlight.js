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
  var site = script && script.getAttribute('data-site');
  if (!site) {
    console.warn('Porchlight: the script tag needs data-site="YOUR_SITE_ID"; the widget is not shown.');
    return;
  }

  var src = new URL(script.src, location.href);
  var widgetOrigin = src.origin;
  var attr = function (name) { return script.getAttribute('data-' + name); };
  var endpoint = attr('endpoint') || widgetOrigin;
  var nav = navigator;
  var locale = attr('locale') || d.documentElement.lang || (nav.languages && nav.languages[0]) || 'en';
  var left = attr('position') === 'left';
  var saveData = !!(nav.connection && nav.connection.saveData);

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
    ':host{all:initial!important;display:block!important;position:fixed!important;z-index:2147483647!important;' +
      'inset:auto 0 0 auto!important;width:0!important;height:0!important;visibility:visible!important;' +
      'opacity:1!important;transform:none!important;filter:none!important;contain:none!important}' +
      '.l{position:fixed;bottom:20px;right:20px;box-sizing:border-box;min-width:56px;height:56px;padding:0 20px;' +
      'display:flex;align-items:center;gap:8px;border:0;border-radius:28px;background:#1d4ed8;color:#fff;' +
      'font:600 16px/1 system-ui,sans-serif;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.3)}' +
      '.l:focus-visible{outline:3px solid #fbbf24;outline-offset:3px}' +
      '.l svg{width:24px;height:24px;fill:currentColor}' +
      // The status mark: filled green (online), filled amber (busy), a hollow ring (offline);
      // the launcher's aria-label says the same in words.
      '.m{display:none;width:12px;height:12px;border:2px solid #fff;border-radius:50%;box-sizing:border-box}' +
      '[data-state] .m{display:block}[data-state=open] .m{background:#4ade80}[data-state=busy] .m{background:#fbbf24}' +
      '.p{position:fixed;bottom:88px;right:20px;width:380px;height:600px;max-height:calc(100vh - 108px);' +
      'border:0;border-radius:12px;background:#fff;box-shadow:0 8px 32px rgba(0,0,0,.35);display:none;color-scheme:normal}' +
      '.o .p{display:block}' +
      '.left .l,.left .p{right:auto;left:20px}' +
      '@media (max-width:600px){.p{inset:0;width:100%;height:100%;max-height:none;border-radius:0}.o .l{display:none}}'
  );
  root.adoptedStyleSheets = [sheet];

  var wrap = d.createElement('div');
  wrap.className = left ? 'left' : '';
  var launcher = d.createElement('button');
  launcher.type = 'button';
  launcher.className = 'l';
  launcher.setAttribute('part', 'launcher');
  var label = 'Open help: chat, call back or rate us';
  launcher.setAttribute('aria-label', label);
  launcher.setAttribute('aria-expanded', 'false');
  var svgNs = 'http://www.w3.org/2000/svg';
  var icon = d.createElementNS(svgNs, 'svg');
  icon.setAttribute('viewBox', '0 0 24 24');
  icon.setAttribute('aria-hidden', 'true');
  var path = d.createElementNS(svgNs, 'path');
  path.setAttribute('d', 'M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z');
  icon.appendChild(path);
  launcher.appendChild(icon);
  launcher.appendChild(d.createTextNode('Help'));
  launcher.appendChild(d.createElement('i')).className = 'm';
  wrap.appendChild(launcher);
  root.appendChild(wrap);

  function emit(name, detail) {
    (listeners[name] || []).forEach(function (fn) {
      try { fn(detail); } catch (e) { console.error(e); } // a host listener must not break us
    });
  }

  function send(type) {
    var msg = { porchlight: 1, type: type };
    if (frameReady) frame.contentWindow.postMessage(msg, widgetOrigin);
    else outbox.push(msg);
  }

  function loadFrame() {
    if (frame) return;
    var url = new URL('frame', src);
    var params = { site: site, origin: location.origin, endpoint: endpoint, locale: locale };
    for (var k in params) url.searchParams.set(k, params[k]);
    frame = d.createElement('iframe');
    frame.className = 'p';
    frame.title = 'Help: chat, call back or rate us';
    frame.src = url.href;
    wrap.appendChild(frame);
  }

  function setOpen(open) {
    if (open === isOpen) return;
    if (open) loadFrame();
    isOpen = open;
    wrap.classList.toggle('o', open);
    launcher.setAttribute('aria-expanded', String(open));
    if (open) {
      frame.focus();
      send('open');
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
    if (!m || m.porchlight !== 1) return;
    if (m.type === 'ready') {
      frameReady = true;
      outbox.splice(0).forEach(function (msg) { frame.contentWindow.postMessage(msg, widgetOrigin); });
      emit('ready', {});
    } else if (m.type === 'close') {
      setOpen(false);
    } else if (m.type === 'status') {
      // The frame fetched the site's availability (a loader fetch could trip the host's CSP).
      var s = m.state === 'open' || m.state === 'busy' ? m.state : 'closed';
      launcher.setAttribute('data-state', s);
      launcher.setAttribute('aria-label', label + (s === 'open' ? ' (online now)' : s === 'busy' ? ' (busy right now)' : ' (offline now)'));
    } else if (m.type === 'event' && typeof m.name === 'string') {
      emit(m.name, m.detail || {});
    }
  });

  launcher.addEventListener('click', function () { setOpen(!isOpen); });
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
    else console.warn('Porchlight: unknown command', command);
  }
  Porchlight.loaded = true;
  w.Porchlight = Porchlight;

  function mount() {
    d.documentElement.appendChild(host);
    // Replay what the page queued before we loaded: window.Porchlight.q from the optional stub.
    ((stub && stub.q) || []).forEach(function (args) { Porchlight.apply(null, args); });
  }
  if (d.body) mount();
  else d.addEventListener('DOMContentLoaded', mount);
})(window, document);
