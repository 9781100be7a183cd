// The API has no "my collections" call: the console remembers, for this tab, the collections its user typed.
import { el, clear } from './dom.js';

const KEY = 'osfria.collections';

export function remembered() {
  try { return JSON.parse(sessionStorage.getItem(KEY)) || []; } catch (e) { return []; }
}

export function rememberCollection(name) {
  const names = remembered().filter((n) => n !== name);
  names.unshift(name);
  sessionStorage.setItem(KEY, JSON.stringify(names.slice(0, 20)));
  options();
}

/** The one datalist of remembered names every collection input offers. */
function options() {
  let list = document.getElementById('collections-list');
  if (!list) {
    list = el('datalist', { id: 'collections-list' });
    document.body.append(list);
  }
  clear(list).append(...remembered().map((n) => el('option', { value: n })));
}

/** A text input for a collection name (or several, comma-separated), filled with the last one used. */
export function collectionInput(id) {
  options();
  return el('input', { type: 'text', id, list: 'collections-list', value: remembered()[0] || '', autocomplete: 'off' });
}
