// Collection names for every collection field: those the key may read or write, as GET /me tells them, then the
// ones its user typed in this tab (for keys that may reach collections not listed, such as a * grant).
import { el, clear } from './dom.js';

const KEY = 'osfria.collections';
let granted = { read: [], write: [] };

export function remembered() {
  try { return JSON.parse(sessionStorage.getItem(KEY)) || []; } catch (e) { return []; }
}

/** The key's collections from GET /me (null when it could not be asked). */
export function setGranted(collections) {
  granted = { read: (collections && collections.read) || [], write: (collections && collections.write) || [] };
  options();
}

export function rememberCollection(name) {
  const names = remembered().filter((n) => n !== name);
  names.unshift(name);
  sessionStorage.setItem(KEY, JSON.stringify(names.slice(0, 20)));
  options();
}

/** The one datalist every collection input offers: the key's own collections first, then the names typed. */
function options() {
  let list = document.getElementById('collections-list');
  if (!list) {
    list = el('datalist', { id: 'collections-list' });
    document.body.append(list);
  }
  const names = [...new Set([...granted.read, ...granted.write, ...remembered()])];
  clear(list).append(...names.map((n) => el('option', { value: n })));
}

/** A text input for a collection name (or several, comma-separated), filled with the last one used or the key's first. */
export function collectionInput(id) {
  options();
  const first = remembered()[0] || granted.read[0] || granted.write[0] || '';
  return el('input', { type: 'text', id, list: 'collections-list', value: first, autocomplete: 'off' });
}
