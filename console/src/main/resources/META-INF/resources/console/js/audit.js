// Audit (admin keys): the audit trail with its filters, newest first, a page at a time. The page is shown only to
// keys the API answers GET /audit for; the API refuses the others anyway.
import { call } from './api.js';
import { el, clear, errorBox, field, formatTime } from './dom.js';
import { t } from './i18n.js';

const ACTIONS = ['', 'document.upload', 'document.read', 'document.list', 'document.update', 'document.delete', 'search', 'key.read', 'kek.reseal'];
const OUTCOMES = ['', 'ok', 'denied', 'not_found', 'invalid'];

export function render(main) {
  const key = el('input', { type: 'text', id: 'audit-key' });
  const action = el('select', { id: 'audit-action' }, ACTIONS.map((a) => el('option', { value: a }, a || t('audit.any'))));
  const collection = el('input', { type: 'text', id: 'audit-collection' });
  const outcome = el('select', { id: 'audit-outcome' }, OUTCOMES.map((o) => el('option', { value: o }, o || t('audit.any'))));
  const since = el('input', { type: 'datetime-local', id: 'audit-since' });
  const limit = el('input', { type: 'number', id: 'audit-limit', min: 1, max: 1000, value: 100 });
  const out = el('div', { id: 'audit' });
  let until = null;

  async function load(next) {
    const query = { key: key.value.trim(), action: action.value, collection: collection.value.trim(), outcome: outcome.value, limit: limit.value };
    if (since.value) query.since = new Date(since.value).toISOString();
    if (next && until) query.until = until;
    try {
      const page = await call('GET', '/audit', { query });
      until = page.data.length ? page.data[page.data.length - 1].time : null;
      clear(out).append(table(page.data));
      if (until && page.data.length >= Number(limit.value)) out.append(el('button', { type: 'button', onclick: () => load(true) }, t('audit.older')));
    } catch (e) {
      clear(out).append(errorBox(e));
    }
  }

  main.append(el('h1', {}, t('audit.title')),
    el('form', { className: 'card row', onsubmit: (e) => { e.preventDefault(); load(false); } },
      field('audit.key', key), field('audit.action', action), field('collection', collection), field('audit.outcome', outcome),
      field('audit.since', since), field('audit.limit', limit), el('button', { type: 'submit', className: 'primary', id: 'audit-submit' }, t('show'))),
    out);
  load(false);
}

function table(rows) {
  if (!rows.length) return el('p', { className: 'muted' }, t('audit.none'));
  return el('table', {},
    el('thead', {}, el('tr', {}, ['audit.time', 'audit.service', 'audit.key', 'audit.action', 'audit.target', 'collection', 'audit.outcome', 'audit.detail']
      .map((k) => el('th', { scope: 'col' }, t(k))))),
    el('tbody', {}, rows.map((r) => el('tr', {},
      el('td', {}, formatTime(r.time)), el('td', {}, r.service), el('td', {}, r.key), el('td', {}, r.action),
      el('td', {}, r.target ?? ''), el('td', {}, r.collection ?? ''), el('td', {}, r.outcome),
      el('td', {}, el('pre', { className: 'small' }, r.detail == null ? '' : typeof r.detail === 'string' ? r.detail : JSON.stringify(r.detail)))))));
}
