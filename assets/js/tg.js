// IKRA — Telegram Mini App glue. Load after https://telegram.org/js/telegram-web-app.js.
//
// On the entry page (it has #tg-status / #tg-outside): inside Telegram, post initData to
// /tg/auth and follow the redirect; in a normal browser, show #tg-outside instead.
// On member pages rendered for the Mini App (<body class="tg">): apply Telegram's theme
// colours as --tg-theme-* variables and wire the Back button.
(function () {
  'use strict';

  var fallback = {
    ru: 'Не удалось войти. Проверьте соединение и попробуйте ещё раз.',
    kk: 'Кіру мүмкін болмады. Байланысты тексеріп, қайталап көріңіз.',
    en: 'Could not sign in. Check your connection and try again.'
  };

  function webApp() {
    var t = window.Telegram;
    return t && t.WebApp ? t.WebApp : null;
  }

  function byId(id) { return document.getElementById(id); }

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
    if (app.colorScheme) document.documentElement.setAttribute('data-tg-scheme', app.colorScheme);
  }

  function onMemberHome() {
    var p = location.pathname.replace(/\/+$/, '');
    return p === '/app';
  }

  function wireBackButton(app) {
    var back = app.BackButton;
    if (!back) return;
    if (onMemberHome()) {
      back.hide();
      return;
    }
    back.onClick(function () {
      if (window.history.length > 1) {
        window.history.back();
      } else {
        location.href = '/app';
      }
    });
    back.show();
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
        location.href = data.redirect;
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

  function entryPage(app) {
    var status = byId('tg-status');
    var outside = byId('tg-outside');
    if (status && !status.hasAttribute('aria-live')) status.setAttribute('aria-live', 'polite');
    if (app && app.initData) {
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
    if (outside) outside.hidden = false;
    if (status) status.hidden = true;
  }

  function init() {
    var app = webApp();
    var isEntry = !!(byId('tg-status') || byId('tg-outside'));
    var inTG = !!(app && app.initData);
    var tgBody = document.body.classList.contains('tg');

    if (app && (inTG || tgBody)) {
      try { app.ready(); app.expand(); } catch (e) { /* older clients */ }
      applyTheme(app);
      if (typeof app.onEvent === 'function') {
        app.onEvent('themeChanged', function () { applyTheme(app); });
      }
    }
    if (isEntry) {
      entryPage(app);
    } else if (app && tgBody) {
      wireBackButton(app);
    }
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
