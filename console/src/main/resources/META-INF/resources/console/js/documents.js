// Documents of a collection: status and indexing progress, failures, upload (drag and drop, progress bar),
// metadata and the confidential flag, a new version, delete with confirmation.
import { call, upload } from './api.js';
import { el, clear, errorBox, field, formatTime, status } from './dom.js';
import { t } from './i18n.js';
import { collectionInput, rememberCollection } from './collections.js';

export function render(main, ctx) {
  const collection = collectionInput('documents-collection');
  const list = el('div', { id: 'documents' });
  let timer = null;
  ctx.leave = () => clearTimeout(timer);

  async function load() {
    clearTimeout(timer);
    const name = collection.value.trim();
    if (!name) return;
    rememberCollection(name);
    try {
      const page = await call('GET', '/documents', { query: { collection: name, limit: 200 } });
      clear(list).append(table(page, reload));
      if (page.data.some((d) => d.status === 'processing')) timer = setTimeout(load, 1500);
    } catch (e) {
      clear(list).append(e.status === 404 ? el('p', { className: 'muted' }, t('documents.none')) : errorBox(e));
    }
  }
  const reload = () => load();

  main.append(
    el('h1', {}, t('documents.title')),
    el('form', { className: 'row', onsubmit: (e) => { e.preventDefault(); load(); } },
      field('collection', collection), el('button', { type: 'submit', id: 'documents-load' }, t('show'))),
    uploadCard(collection, reload),
    list);
  if (collection.value) load();
}

function table(page, reload) {
  if (!page.data.length) return el('p', { className: 'muted' }, t('documents.none'));
  return el('table', {},
    el('caption', { className: 'muted' }, t('documents.count', page.total)),
    el('thead', {}, el('tr', {}, ['documents.name', 'documents.status', 'documents.version', 'department',
      'confidential', 'documents.uploaded', 'documents.actions'].map((k) => el('th', { scope: 'col' }, t(k))))),
    el('tbody', {}, page.data.map((d) => row(d, reload))));
}

function row(d, reload) {
  const meta = d.metadata || {};
  const progress = d.status === 'processing' && d.chunks_count > 0
    ? el('progress', { max: d.chunks_count, value: d.chunks_indexed || 0, 'aria-label': t('documents.progress') }) : null;
  const sending = el('progress', { max: 1, value: 0, hidden: true, 'aria-label': t('documents.uploading') });
  const replace = el('input', { type: 'file', hidden: true, onchange: () => newVersion(d, replace.files[0], sending, reload) });
  return el('tr', { 'data-document': d.document_id },
    el('td', { className: 'filename' }, d.filename, el('div', { className: 'muted' }, d.document_id)),
    el('td', { className: 'doc-status' }, el('span', { className: d.status === 'failed' ? 'error' : d.status === 'indexed' ? 'ok' : '' },
      t('status.' + d.status)), ' ', progress, ` ${d.chunks_indexed ?? 0}/${d.chunks_count ?? 0}`,
    d.error ? el('div', { className: 'error' }, d.error) : null),
    el('td', {}, String(d.version)),
    el('td', {}, meta.department ?? ''),
    el('td', {}, meta.confidential ? t('yes') : t('no')),
    el('td', {}, formatTime(d.upload_time)),
    el('td', { className: 'actions' },
      replace,
      el('button', { type: 'button', className: 'new-version', onclick: () => replace.click() }, t('documents.newVersion')), ' ', sending, ' ',
      el('button', { type: 'button', className: 'danger', onclick: () => remove(d, reload) }, t('delete'))));
}

async function newVersion(d, file, bar, reload) {
  if (!file) return;
  bar.hidden = false;
  const form = new FormData();
  form.append('file', file);
  form.append('metadata', JSON.stringify(Object.fromEntries(Object.entries(d.metadata || {})
    .filter(([k]) => !['pages', 'file_size'].includes(k)))));
  try {
    await upload('PUT', `/documents/${encodeURIComponent(d.document_id)}`, form, (p) => { bar.value = p; });
    status(t('documents.versioned', d.filename));
  } catch (e) {
    status(`${t('error.generic')} ${e.message}`);
  }
  reload();
}

async function remove(d, reload) {
  if (!window.confirm(t('documents.confirmDelete', d.filename))) return;
  try {
    await call('DELETE', `/documents/${encodeURIComponent(d.document_id)}`);
    status(t('documents.deleted', d.filename));
  } catch (e) {
    status(`${t('error.generic')} ${e.message}`);
  }
  reload();
}

function uploadCard(collection, reload) {
  const file = el('input', { type: 'file', id: 'upload-file', multiple: true });
  const department = el('input', { type: 'text', id: 'upload-department' });
  const confidential = el('input', { type: 'checkbox', id: 'upload-confidential' });
  const extra = el('textarea', { id: 'upload-metadata', placeholder: '{"author": "…"}', rows: 2 });
  const bar = el('progress', { id: 'upload-progress', max: 1, value: 0, hidden: true, 'aria-label': t('documents.uploading') });
  const result = el('div', { id: 'upload-result', 'aria-live': 'polite' });
  const drop = el('div', { className: 'drop', id: 'drop' }, t('documents.drop'));

  async function send(files) {
    clear(result);
    let metadata = {};
    try {
      metadata = extra.value.trim() ? JSON.parse(extra.value) : {};
    } catch (e) {
      result.append(el('p', { className: 'error', role: 'alert' }, t('documents.badMetadata')));
      return;
    }
    if (department.value.trim()) metadata.department = department.value.trim();
    metadata.confidential = confidential.checked;
    for (const f of files) {
      const form = new FormData();
      form.append('file', f);
      form.append('collection', collection.value.trim());
      form.append('metadata', JSON.stringify(metadata));
      bar.hidden = false;
      bar.value = 0;
      try {
        const d = await upload('POST', '/documents', form, (p) => { bar.value = p; });
        bar.value = 1;
        result.append(el('p', { className: 'ok' }, t('documents.sent', f.name, d.document_id)));
      } catch (e) {
        result.append(errorBox(e));
      }
    }
    reload();
  }

  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => { e.preventDefault(); drop.classList.remove('over'); send([...e.dataTransfer.files]); });
  return el('form', { className: 'card', onsubmit: (e) => { e.preventDefault(); if (file.files.length) send([...file.files]); } },
    el('h2', {}, t('documents.upload')),
    drop,
    el('div', { className: 'row' }, field('documents.file', file), field('department', department),
      field('confidential', confidential, true)),
    field('documents.metadata', extra),
    el('div', { className: 'row' }, el('button', { type: 'submit', className: 'primary', id: 'upload-submit' }, t('documents.send')), ' ', bar),
    result);
}
