// IKRA — Telegram Mini App glue. Loaded (deferred) beside Telegram's own script
// https://telegram.org/js/telegram-web-app.js (async, id="tg-sdk"); every page works
// without it: should Telegram's script fail or stall, the in-page buttons stay.
//
// On the entry page (it has #tg-status / #tg-outside): inside Telegram, post initData to
// /tg/auth and follow the redirect; in a normal browser, show #tg-outside instead.
// On pages rendered for the Mini App (<body class="tg">):
//   - Telegram's theme colours become --tg-theme-* variables, its safe areas
//     --tg-safe-area-inset-* and --tg-content-safe-area-inset-* (app.css uses them);
//   - the BackButton goes back (hidden on the cabinet's home);
//   - the first visible submit button (or link) marked data-tg-main becomes the
//     MainButton (its text; a tap submits its form) and the in-page copy is hidden;
//   - links to t.me open in Telegram (openTelegramLink);
//   - a success flash plays the success haptic, an error flash the error one.
(function () {
  'use strict';

  var fallback = {
    ru: 'Не удалось войти. Проверьте соединение и попробуйте ещё раз.',
    kk: 'Кіру мүмкін болмады. Байланысты тексеріп, қайталап көріңіз.',
    en: 'Could not sign in. Check your connection and try again.'
  };

  // How long to wait for a stalled Telegram script before giving up on it.
  var sdkWait = 4000;

  function webApp() {
    var t = window.Telegram;
    return t && t.WebApp ? t.WebApp : null;
  }

  function byId(id) { return document.getElementById(id); }

  function call(fn) {
    try { fn(); } catch (e) { /* an older client without this method */ }
  }

  function csrfToken() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute('content') || '' : '';
  }

  function genericError() {
    var status = byId('tg-status');
    var custom = status && status.getAttribute('data-error-text');
    if (custom) return custom;
    var lang = (document.documentElement.lang || 'ru').slice(0, 2).toLowerCase();
    return fallback[lang] || fallback.en;
  }

  // whenTelegram calls ready(app) once Telegram's script has defined Telegram.WebApp,
  // and missing() when it failed or did not arrive in time (it may still arrive later).
  function whenTelegram(ready, missing) {
    var app = webApp();
    if (app) { ready(app); return; }
    var done = false;
    function loaded() {
      var a = webApp();
      if (done || !a) return;
      done = true;
      ready(a);
    }
    function check() {
      loaded();
      if (!done) missing();
    }
    var sdk = byId('tg-sdk');
    if (sdk) {
      sdk.addEventListener('load', loaded);
      sdk.addEventListener('error', check);
    }
    // The window's load waits for async scripts: by then Telegram's has run or failed.
    if (document.readyState === 'complete') {
      check();
    } else {
      window.addEventListener('load', check);
    }
    // A stalled request holds the load event: stop waiting for it (it may still arrive).
    window.setTimeout(check, sdkWait);
  }

  // Theme: copy themeParams into CSS variables, e.g. bg_color -> --tg-theme-bg-color.
  var colour = /^(#[0-9a-f]{3,8}|rgba?\([0-9.,\s%]+\))$/i;

  function applyTheme(app) {
    var params = app.themeParams || {};
    var root = document.documentElement.style;
    Object.keys(params).forEach(function (key) {
      var value = String(params[key]);
      if (!/^[a-z0-9_]+$/i.test(key) || !colour.test(value)) return;
      root.setProperty('--tg-theme-' + key.replace(/_/g, '-'), value);
    });
    if (app.colorScheme === 'light' || app.colorScheme === 'dark') {
      document.documentElement.setAttribute('data-tg-scheme', app.colorScheme);
    }
    // Telegram's header and overscroll area take the page's background.
    if (params.bg_color) {
      call(function () { app.setHeaderColor('bg_color'); });
      call(function () { app.setBackgroundColor('bg_color'); });
    }
  }

  // Safe areas: Telegram's script sets these variables itself; copying the objects
  // covers clients that report the insets without setting them.
  function applyInsets(app) {
    var root = document.documentElement.style;
    [['safeAreaInset', '--tg-safe-area-inset-'], ['contentSafeAreaInset', '--tg-content-safe-area-inset-']].forEach(function (pair) {
      var inset = app[pair[0]];
      if (!inset) return;
      ['top', 'bottom', 'left', 'right'].forEach(function (side) {
        var n = Number(inset[side]);
        if (isFinite(n) && n >= 0) root.setProperty(pair[1] + side, n + 'px');
      });
    });
  }

  function onMemberHome() {
    return location.pathname.replace(/\/+$/, '') === '/app';
  }

  // cameFromHere: the previous page is one of ours other than the entry page, so
  // going back stays inside the cabinet.
  function cameFromHere() {
    if (!document.referrer || window.history.length < 2) return false;
    try {
      var prev = new URL(document.referrer);
      return prev.origin === location.origin && prev.pathname.replace(/\/+$/, '') !== '/tg';
    } catch (e) {
      return false;
    }
  }

  // wireBackButton shows Back on every screen but the cabinet's home; it returns what
  // sets the button again when the page comes back from the back/forward cache.
  function wireBackButton(app) {
    var back = app.BackButton;
    if (!back) return null;
    if (onMemberHome()) {
      call(function () { back.hide(); });
      return function () { call(function () { back.hide(); }); };
    }
    call(function () {
      back.onClick(function () {
        if (cameFromHere()) {
          window.history.back();
        } else {
          location.href = '/app';
        }
      });
      back.show();
    });
    // Telegram's script sends only changes: hide first, so show reaches the client.
    return function () { call(function () { back.hide(); back.show(); }); };
  }

  function visible(el) {
    return !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  }

  // Links to Telegram open in Telegram itself, not inside the Mini App's web view.
  function telegramLink(href) {
    return /^https:\/\/t\.me\//.test(href);
  }

  function openLink(app, href) {
    if (telegramLink(href) && typeof app.openTelegramLink === 'function') {
      call(function () { app.openTelegramLink(href); });
    } else {
      location.href = href;
    }
  }

  function wireLinks(app) {
    document.addEventListener('click', function (e) {
      var a = e.target.closest && e.target.closest('a[href]');
      if (!a || !telegramLink(a.href) || typeof app.openTelegramLink !== 'function') return;
      e.preventDefault();
      openLink(app, a.href);
    });
  }

  // The screen's primary action: the first visible submit button (or link) marked
  // data-tg-main.
  function wireMainButton(app) {
    var main = app.MainButton;
    if (!main) return;
    var btn = null;
    var marked = document.querySelectorAll('[data-tg-main]');
    for (var i = 0; i < marked.length; i++) {
      var el = marked[i];
      if ((el.form || el.href) && !el.disabled && visible(el)) { btn = el; break; }
    }
    if (!btn) {
      call(function () { main.hide(); });
      return function () { call(function () { main.hide(); }); };
    }
    var text = (btn.textContent || '').replace(/\s+/g, ' ').trim();
    // Back on this page from the cache: the next page hid or changed the button.
    var sending = false;
    var restore = function () {
      sending = false;
      call(function () { main.hideProgress(); });
      call(function () { main.hide(); main.setText(text); main.enable(); main.show(); });
    };
    if (!btn.form) {
      var href = btn.href;
      call(function () {
        main.setText(text);
        main.onClick(function () { openLink(app, href); });
        main.enable();
        main.show();
        btn.hidden = true;
        document.documentElement.classList.add('tg-main');
      });
      return restore;
    }
    var form = btn.form;
    form.addEventListener('submit', function (e) {
      // app.js may have cancelled it (a declined confirm).
      if (e.defaultPrevented) return;
      sending = true;
      call(function () { main.showProgress(false); });
      call(function () { main.disable(); });
    });
    call(function () {
      main.setText(text);
      main.onClick(function () {
        if (sending) return;
        if (typeof form.requestSubmit === 'function') {
          form.requestSubmit(btn); // validates and fires submit, as a tap on the button would
        } else if (form.reportValidity()) {
          form.submit();
        }
      });
      main.enable();
      main.show();
      // Only now that Telegram shows the button does the page's own copy go.
      btn.hidden = true;
      document.documentElement.classList.add('tg-main');
    });
    return restore;
  }

  function haptics(app) {
    var h = app.HapticFeedback;
    if (!h || typeof h.notificationOccurred !== 'function') return;
    if (document.querySelector('.flash-ok')) {
      call(function () { h.notificationOccurred('success'); });
    } else if (document.querySelector('.flash-error, [aria-invalid="true"]')) {
      call(function () { h.notificationOccurred('error'); });
    }
  }

  // Entry page: sign in with initData.
  function showStatus(text, retry) {
    var status = byId('tg-status');
    if (status) {
      status.hidden = false;
      if (text) status.textContent = text;
    }
    var btn = byId('tg-retry');
    if (btn) btn.hidden = !retry;
  }

  function signIn(app) {
    var btn = byId('tg-retry');
    if (btn) { btn.hidden = true; btn.disabled = true; }
    // A link to the Mini App may name where to go after signing in (/tg?next=/app/welcome);
    // the server checks it is one of ours.
    var next = new URLSearchParams(location.search).get('next');
    fetch('/tg/auth' + (next ? '?next=' + encodeURIComponent(next) : ''), {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'Accept': 'application/json',
        'X-CSRF-Token': csrfToken()
      },
      body: JSON.stringify({ initData: app.initData }),
      credentials: 'same-origin'
    }).then(function (res) {
      return res.json().catch(function () { return null; });
    }).then(function (data) {
      if (data && data.ok && typeof data.redirect === 'string' && data.redirect.charAt(0) === '/' && data.redirect.charAt(1) !== '/') {
        // The entry page leaves the history: Back from the first screen closes nothing twice.
        location.replace(data.redirect);
        return;
      }
      var msg = data && data.error && data.error.message;
      showStatus(msg || genericError(), true);
    }).catch(function () {
      showStatus(genericError(), true);
    }).then(function () {
      if (btn) btn.disabled = false;
    });
  }

  var entryStarted = false;

  function entryPage(app) {
    var status = byId('tg-status');
    var outside = byId('tg-outside');
    if (status && !status.hasAttribute('aria-live')) status.setAttribute('aria-live', 'polite');
    if (app && app.initData) {
      if (entryStarted) return;
      entryStarted = true;
      if (outside) outside.hidden = true;
      var retry = byId('tg-retry');
      if (retry) {
        retry.addEventListener('click', function () {
          showStatus(status && status.getAttribute('data-loading-text'), false);
          signIn(app);
        });
      }
      signIn(app);
      return;
    }
    if (entryStarted) return;
    if (outside) outside.hidden = false;
    if (status) status.hidden = true;
  }

  function memberPage(app) {
    wireLinks(app);
    var restore = [wireBackButton(app), wireMainButton(app)];
    haptics(app);
    window.addEventListener('pageshow', function (e) {
      if (!e.persisted) return;
      restore.forEach(function (f) { if (f) f(); });
    });
  }

  function start(app) {
    var isEntry = !!(byId('tg-status') || byId('tg-outside'));
    var inTG = !!app.initData;
    var tgBody = document.body.classList.contains('tg');
    if (inTG || tgBody) {
      call(function () { app.ready(); });
      call(function () { app.expand(); });
      applyTheme(app);
      applyInsets(app);
      if (typeof app.onEvent === 'function') {
        call(function () {
          app.onEvent('themeChanged', function () { applyTheme(app); });
          app.onEvent('safeAreaChanged', function () { applyInsets(app); });
          app.onEvent('contentSafeAreaChanged', function () { applyInsets(app); });
        });
      }
    }
    if (isEntry) {
      entryPage(app);
    } else if (tgBody) {
      memberPage(app);
    }
  }

  function init() {
    whenTelegram(start, function () {
      // No Telegram: the entry page says to open it there; other pages keep their own buttons.
      if (byId('tg-status') || byId('tg-outside')) entryPage(null);
    });
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
