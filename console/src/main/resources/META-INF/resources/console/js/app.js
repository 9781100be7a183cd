// The console's shell: sign in, the navigation, the language switch. Each page is a module with render(main, ctx).
import { call, session } from './api.js';
import { el, clear, errorBox, field } from './dom.js';
import { t, setLanguage, language, translateStatic } from './i18n.js';
import * as documents from './documents.js';
import * as search from './search.js';
import * as chat from './chat.js';
import * as webhooks from './webhooks.js';
import * as usage from './usage.js';
import * as audit from './audit.js';
import { setGranted } from './collections.js';

const PAGES = { documents, search, chat, webhooks, usage, audit };
const ctx = { admin: false, me: null, page: 'documents' };
const main = () => document.getElementById('main');

function signInPage(message) {
  const key = el('input', { type: 'password', id: 'key', autocomplete: 'off', required: true, spellcheck: 'false' });
  const form = el('form', { className: 'card signin', onsubmit: (e) => { e.preventDefault(); signIn(key.value.trim()); } },
    el('h1', {}, t('signin.title')),
    el('p', { className: 'muted' }, t('signin.help')),
    field('signin.key', key),
    message ? message : null,
    el('p', {}, el('button', { type: 'submit', className: 'primary', id: 'signin' }, t('signin.submit'))));
  clear(main()).append(form);
  document.getElementById('nav').hidden = true;
  document.getElementById('signout').hidden = true;
  document.getElementById('whoami').textContent = '';
  key.focus();
}

/**
 * A key is good if the API takes it; who it is (admin or not, its collections) is the API's answer to GET /me, not
 * the console's guess. Should that service be unreachable, a key the model list accepts still signs in, as a
 * non-admin whose collections are typed.
 */
async function whoIs(key) {
  try {
    return await call('GET', '/me', { key });
  } catch (e) {
    if (e.status === 401) throw e;
    await call('GET', '/models', { key });
    return null;
  }
}

async function signIn(key) {
  if (!key) return;
  let me;
  try {
    me = await whoIs(key);
  } catch (e) {
    signInPage(e.status === 401 ? el('p', { className: 'error', role: 'alert', id: 'signin-error' }, t('signin.wrong'))
      : el('div', { id: 'signin-error' }, errorBox(e)));
    return;
  }
  session.signIn(key);
  start(me);
}

async function start(known) {
  let me = known;
  if (me === undefined) {
    try {
      me = await whoIs(session.key());
    } catch (e) {
      if (e.status === 401) { session.signOut(); signInPage(el('p', { className: 'error', role: 'alert' }, t('signin.wrong'))); return; }
      me = null;
    }
  }
  ctx.me = me;
  ctx.admin = Boolean(me && me.admin);
  setGranted(me && me.collections);
  document.getElementById('whoami').textContent = me ? t('whoami', me.name) : t('whoami.unknown');
  document.getElementById('nav').hidden = false;
  document.getElementById('signout').hidden = false;
  document.querySelector('[data-page="audit"]').hidden = !ctx.admin;
  show(sessionStorage.getItem('osfria.page') || 'documents');
}

function show(page) {
  if (!PAGES[page] || (page === 'audit' && !ctx.admin)) page = 'documents';
  ctx.page = page;
  sessionStorage.setItem('osfria.page', page);
  for (const b of document.querySelectorAll('#nav button')) {
    if (b.dataset.page === page) b.setAttribute('aria-current', 'page'); else b.removeAttribute('aria-current');
  }
  if (ctx.leave) ctx.leave();
  ctx.leave = null;
  const m = clear(main());
  PAGES[page].render(m, ctx);
  m.focus();
}

document.addEventListener('DOMContentLoaded', () => {
  const lang = document.getElementById('lang');
  lang.value = language();
  translateStatic();
  lang.addEventListener('change', () => {
    setLanguage(lang.value);
    translateStatic();
    if (session.key()) start(ctx.me); else signInPage();
  });
  for (const b of document.querySelectorAll('#nav button')) b.addEventListener('click', () => show(b.dataset.page));
  document.getElementById('signout').addEventListener('click', () => { session.signOut(); signInPage(); });
  if (session.key()) start(); else signInPage();
});
