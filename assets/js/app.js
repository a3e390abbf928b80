// IKRA — small progressive enhancements shared by every workspace.
// Everything is attached here with addEventListener: the CSP allows no inline script.
//   form[data-confirm]                 ask before submitting (also on a submit button or link)
//   [data-copy="text"]                 copy the text to the clipboard, show "✓" for a moment
//   .flash                             gets a close button
//   form[data-autosubmit]              submits when one of its selects changes
//   input[type=file][data-max-bytes]   refuses a file that is too large before it is sent
//   select[data-tags-for]              shows only the tag group ([data-category]) of the chosen category
(function () {
  'use strict';

  var closeLabels = { ru: 'Закрыть', kk: 'Жабу', en: 'Close' };

  function lang() {
    return (document.documentElement.lang || 'ru').slice(0, 2).toLowerCase();
  }

  // (a) Confirmation before a destructive submit.
  document.addEventListener('submit', function (e) {
    var form = e.target;
    if (!(form instanceof HTMLFormElement)) return;
    var btn = e.submitter;
    var text = (btn && btn.getAttribute('data-confirm')) || form.getAttribute('data-confirm');
    if (text && !window.confirm(text)) {
      e.preventDefault();
      e.stopImmediatePropagation();
    }
  }, true);

  document.addEventListener('click', function (e) {
    var link = e.target.closest && e.target.closest('a[data-confirm]');
    if (link && !window.confirm(link.getAttribute('data-confirm'))) e.preventDefault();
  });

  // (b) Copy to clipboard.
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    return new Promise(function (resolve, reject) {
      var ta = document.createElement('textarea');
      ta.value = text;
      ta.setAttribute('readonly', '');
      ta.className = 'visually-hidden';
      document.body.appendChild(ta);
      ta.select();
      var ok = false;
      try { ok = document.execCommand('copy'); } catch (err) { ok = false; }
      document.body.removeChild(ta);
      if (ok) { resolve(); } else { reject(new Error('copy failed')); }
    });
  }

  document.addEventListener('click', function (e) {
    var btn = e.target.closest && e.target.closest('[data-copy]');
    if (!btn) return;
    e.preventDefault();
    if (btn.dataset.copying) return;
    var original = Array.prototype.slice.call(btn.childNodes);
    copyText(btn.getAttribute('data-copy')).then(function () {
      btn.dataset.copying = '1';
      btn.textContent = '✓';
      window.setTimeout(function () {
        btn.replaceChildren.apply(btn, original);
        delete btn.dataset.copying;
      }, 1500);
    }, function () {
      btn.setAttribute('title', btn.getAttribute('data-copy'));
    });
  });

  // (c) Close buttons on flash messages.
  function addCloseButtons(root) {
    var flashes = root.querySelectorAll('.flash');
    for (var i = 0; i < flashes.length; i++) {
      var flash = flashes[i];
      if (flash.querySelector('.flash-close')) continue;
      var b = document.createElement('button');
      b.type = 'button';
      b.className = 'flash-close';
      b.setAttribute('aria-label', closeLabels[lang()] || closeLabels.en);
      b.textContent = '×';
      b.addEventListener('click', dismiss);
      flash.appendChild(b);
    }
  }

  function dismiss(e) {
    var flash = e.currentTarget.closest('.flash');
    if (!flash) return;
    var reduce = window.matchMedia && window.matchMedia('(prefers-reduced-motion: reduce)').matches;
    if (reduce) { flash.remove(); return; }
    flash.classList.add('is-closing');
    window.setTimeout(function () { flash.remove(); }, 200);
  }

  // (d) Auto-submit filter forms when a select changes.
  document.addEventListener('change', function (e) {
    var el = e.target;
    if (!(el instanceof HTMLSelectElement)) return;
    var form = el.form;
    if (!form || !form.hasAttribute('data-autosubmit')) return;
    if (typeof form.requestSubmit === 'function') {
      form.requestSubmit();
    } else {
      form.submit();
    }
  });

  // (e) A picture over the size limit is refused at once (the server refuses it too),
  // so a phone does not send megabytes only to hear "too large".
  document.addEventListener('change', function (e) {
    var el = e.target;
    if (!(el instanceof HTMLInputElement) || el.type !== 'file' || !el.hasAttribute('data-max-bytes')) return;
    var max = parseInt(el.getAttribute('data-max-bytes'), 10);
    var big = Array.prototype.some.call(el.files || [], function (f) { return f.size > max; });
    el.setCustomValidity(big ? el.getAttribute('data-too-large') || '' : '');
    if (big) el.reportValidity();
  });

  // (f) An offer's tags belong to its category: once one is chosen, only that
  // category's tags are offered (all of them without a choice, or without script).
  function showTags(select) {
    var box = document.getElementById(select.getAttribute('data-tags-for'));
    if (!box) return;
    var groups = box.querySelectorAll('[data-category]');
    for (var i = 0; i < groups.length; i++) {
      groups[i].hidden = select.value !== '' && groups[i].getAttribute('data-category') !== select.value;
    }
  }
  document.addEventListener('change', function (e) {
    if (e.target instanceof HTMLSelectElement && e.target.hasAttribute('data-tags-for')) showTags(e.target);
  });

  function ready() {
    addCloseButtons(document);
    var selects = document.querySelectorAll('select[data-tags-for]');
    for (var i = 0; i < selects.length; i++) showTags(selects[i]);
  }
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', ready);
  } else {
    ready();
  }
})();
