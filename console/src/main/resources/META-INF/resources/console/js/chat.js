// Chat: a model from /v1/models, the answer streamed as it comes; "answer from my documents" searches the chosen
// collections with the user's own key, sends the passages as context and shows them as numbered citations.
import { call, streamChat } from './api.js';
import { el, clear, errorBox, field } from './dom.js';
import { t } from './i18n.js';
import { collectionInput, rememberCollection } from './collections.js';
import { hitView, documentName } from './search.js';

const PASSAGES = 6;

export function render(main, ctx) {
  const model = el('select', { id: 'chat-model' });
  const useDocs = el('input', { type: 'checkbox', id: 'chat-rag' });
  const collections = collectionInput('chat-collections');
  const prompt = el('textarea', { id: 'chat-prompt', rows: 3, required: true });
  const send = el('button', { type: 'submit', className: 'primary', id: 'chat-send' }, t('chat.send'));
  const stop = el('button', { type: 'button', id: 'chat-stop', disabled: true }, t('chat.stop'));
  const log = el('div', { id: 'chat-log' });
  const history = [];
  let controller = null;
  ctx.leave = () => controller && controller.abort();

  call('GET', '/models').then((models) => {
    model.append(...models.data.map((m) => el('option', { value: m.id }, m.id)));
  }, (e) => log.append(errorBox(e)));

  async function ask() {
    const question = prompt.value.trim();
    if (!question || !model.value) return;
    prompt.value = '';
    const answer = el('div', { className: 'answer', 'aria-live': 'polite', 'aria-busy': 'true' });
    const turn = el('div', { className: 'card turn' }, el('p', {}, el('strong', {}, t('chat.you')), ' ', question), answer);
    log.append(turn);
    let hits = [];
    const messages = history.slice();
    try {
      if (useDocs.checked) {
        hits = await passages(collections.value, question);
        messages.unshift({ role: 'system', content: context(hits) });
      }
      messages.push({ role: 'user', content: question });
      controller = new AbortController();
      send.disabled = true;
      stop.disabled = false;
      let text = '';
      await streamChat({ model: model.value, messages }, (delta) => { text += delta; answer.textContent = text; }, controller.signal);
      history.push({ role: 'user', content: question }, { role: 'assistant', content: text });
      clear(answer).append(...withCitationLinks(text, hits.length));
      if (hits.length) {
        turn.append(el('h2', {}, t('chat.sources')),
          el('ol', { className: 'citations' }, hits.map((h, i) => citation(h, i + 1))),
          ...hits.map((h, i) => hitView(h, question, i + 1)));
      }
    } catch (e) {
      if (e.name !== 'AbortError') turn.append(errorBox(e));
    } finally {
      answer.setAttribute('aria-busy', 'false');
      send.disabled = false;
      stop.disabled = true;
      controller = null;
    }
  }

  main.append(el('h1', {}, t('chat.title')),
    el('form', { className: 'card', onsubmit: (e) => { e.preventDefault(); ask(); } },
      el('div', { className: 'row' }, field('chat.model', model), field('chat.rag', useDocs, true),
        field('chat.collections', collections)),
      field('chat.prompt', prompt),
      el('div', {}, send, ' ', stop, ' ',
        el('button', { type: 'button', onclick: () => { history.length = 0; clear(log); } }, t('chat.clear')))),
    log);
  stop.addEventListener('click', () => controller && controller.abort());
  prompt.addEventListener('keydown', (e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) ask(); });
}

/** A numbered link to the passage, with its document's name and page. */
function citation(hit, n) {
  const name = el('span', {}, hit.document_id);
  documentName(hit.document_id).then((filename) => { name.textContent = filename; });
  const page = hit.metadata && hit.metadata.page != null ? ` · ${t('search.page')} ${hit.metadata.page}` : '';
  return el('li', {}, el('a', { href: `#hit-${n}` }, `[${n}]`), ' ', name, page);
}

/** The best passages over the chosen collections, searched with the user's key (so only what it may read). */
async function passages(names, question) {
  const collections = names.split(',').map((c) => c.trim()).filter(Boolean);
  const found = await Promise.all(collections.map(async (collection) => {
    const answer = await call('POST', '/search', { json: { query: question, collection, top_k: PASSAGES } });
    rememberCollection(collection);
    return answer.results;
  }));
  return found.flat().sort((a, b) => b.score - a.score).slice(0, PASSAGES);
}

function context(hits) {
  const numbered = hits.map((h, i) => `[${i + 1}] ${h.content}`).join('\n\n');
  return 'Answer from the numbered passages below when they hold the answer, and cite them as [1], [2]… '
    + 'If they do not, say so.\n\n' + numbered;
}

/** The answer as text, each [n] that names a passage turned into a link to it. */
function withCitationLinks(text, count) {
  return text.split(/(\[\d+\])/).map((part) => {
    const n = /^\[(\d+)\]$/.exec(part);
    return n && Number(n[1]) >= 1 && Number(n[1]) <= count ? el('a', { href: `#hit-${n[1]}` }, part) : part;
  });
}
