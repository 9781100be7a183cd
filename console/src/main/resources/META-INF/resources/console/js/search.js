// Search: query, collection, mode, filters, top_k, score threshold; hits with score, document, page, section and the
// matched words highlighted.
import { call } from './api.js';
import { el, clear, errorBox, field, highlighted } from './dom.js';
import { t } from './i18n.js';
import { collectionInput, rememberCollection } from './collections.js';

/** Document names by id, read once each with the user's key (a search hit carries only the id). */
const names = new Map();

export async function documentName(id) {
  if (!names.has(id)) {
    names.set(id, call('GET', `/documents/${encodeURIComponent(id)}`).then((d) => d.filename, () => id));
  }
  return names.get(id);
}

/** A hit as the console shows it, numbered when n is given (chat citations). */
export function hitView(hit, query, n) {
  const meta = hit.metadata || {};
  const name = el('strong', { className: 'hit-document' }, hit.document_id);
  documentName(hit.document_id).then((filename) => { name.textContent = filename; });
  return el('div', { className: 'hit', id: n ? `hit-${n}` : null, 'data-document': hit.document_id },
    el('div', { className: 'meta' }, n ? `[${n}] ` : '', name,
      meta.page != null ? ` · ${t('search.page')} ${meta.page}` : '',
      meta.section ? ` · ${meta.section}` : '',
      ` · ${t('search.score')} ${Number(hit.score).toFixed(3)}`),
    el('div', { className: 'passage' }, highlighted(hit.content, query)));
}

export function render(main) {
  const query = el('input', { type: 'text', id: 'search-query', required: true, size: 40 });
  const collection = collectionInput('search-collection');
  const mode = el('select', { id: 'search-mode' }, ['hybrid', 'dense', 'keyword'].map((m) => el('option', { value: m }, t('mode.' + m))));
  const topK = el('input', { type: 'number', id: 'search-top-k', min: 1, max: 100, value: 5 });
  const threshold = el('input', { type: 'number', id: 'search-threshold', min: -1, max: 1, step: 0.05, placeholder: '0.7' });
  const filters = el('input', { type: 'text', id: 'search-filters', placeholder: 'department=finance, confidential=true', size: 40 });
  const results = el('div', { id: 'search-results', 'aria-live': 'polite' });

  async function run() {
    clear(results);
    let parsed;
    try {
      parsed = parseFilters(filters.value);
    } catch (e) {
      results.append(el('p', { className: 'error', role: 'alert' }, t('search.badFilters')));
      return;
    }
    const body = { query: query.value, collection: collection.value.trim(), mode: mode.value, top_k: Number(topK.value) || 5 };
    if (threshold.value !== '') body.score_threshold = Number(threshold.value);
    if (parsed) body.filters = parsed;
    try {
      const answer = await call('POST', '/search', { json: body });
      rememberCollection(body.collection);
      results.append(el('p', { className: 'muted' }, t('search.found', answer.total_results, answer.search_time_ms)));
      results.append(...answer.results.map((hit) => hitView(hit, body.query)));
    } catch (e) {
      results.append(e.status === 404 ? el('p', { className: 'error', role: 'alert' }, t('search.noCollection')) : errorBox(e));
    }
  }

  main.append(el('h1', {}, t('search.title')),
    el('form', { className: 'card', onsubmit: (e) => { e.preventDefault(); run(); } },
      el('div', { className: 'row' }, field('search.query', query), field('collection', collection), field('search.mode', mode)),
      el('div', { className: 'row' }, field('search.topK', topK), field('search.threshold', threshold), field('search.filters', filters)),
      el('button', { type: 'submit', className: 'primary', id: 'search-submit' }, t('search.submit'))),
    results);
  query.focus();
}

/** "a=b, c=true, n=3" → {a:"b", c:true, n:3}; a repeated key gives a list (any of the values). */
export function parseFilters(text) {
  const out = {};
  const parts = text.split(',').map((p) => p.trim()).filter(Boolean);
  if (!parts.length) return null;
  for (const part of parts) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new Error(part);
    const k = part.slice(0, eq).trim();
    const raw = part.slice(eq + 1).trim();
    const v = raw === 'true' ? true : raw === 'false' ? false : /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw;
    out[k] = k in out ? [].concat(out[k], v) : v;
  }
  return out;
}
