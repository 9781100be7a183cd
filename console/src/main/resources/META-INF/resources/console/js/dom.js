// Building the page. Data from the API only ever becomes text (textContent, attribute values): never HTML, so a
// document named <img src=x onerror=…> shows as those characters.
import { t } from './i18n.js';

/** An element: attrs are properties (on*, className, value…) or attributes; children are nodes or text. */
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value == null || value === false) continue;
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else if (name === 'className' || name === 'value' || name === 'checked' || name === 'disabled') node[name] = value;
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat()) {
    if (child == null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** A labelled control: the label wraps it, so screen readers and clicks find it. */
export function field(labelKey, control, inline) {
  return el('label', { className: inline ? 'inline' : '' }, inline ? control : t(labelKey), inline ? t(labelKey) : control);
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

/** The error as a sentence in the page's language: the platform's message, and the status. */
export function errorBox(error) {
  const known = error && error.status === 401 ? t('error.401')
    : error && error.status === 403 ? t('error.403')
      : error && error.status === 0 ? t('error.network') : '';
  return el('p', { className: 'error', role: 'alert' }, known || t('error.generic'),
    error && error.message ? ` (${error.status || ''} ${error.code || ''}: ${error.message})` : '');
}

export function status(text) {
  document.getElementById('status').textContent = text;
}

export function formatTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return isNaN(d) ? String(iso) : d.toLocaleString();
}

/** Text with every occurrence of the query's words wrapped in <mark>, as text nodes (no HTML is parsed). */
export function highlighted(text, query) {
  // whole words of three letters or more: "de" or "la" would light up half of a French passage
  const words = [...new Set(String(query).toLowerCase().split(/[^\p{L}\p{N}]+/u).filter((w) => w.length > 2))];
  if (!words.length) return [text];
  const escaped = words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const parts = String(text).split(new RegExp(`(?<![\\p{L}\\p{N}])(${escaped.join('|')})(?![\\p{L}\\p{N}])`, 'giu'));
  return parts.map((part, i) => (i % 2 === 1 ? el('mark', {}, part) : part));
}
