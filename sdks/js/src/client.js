// OsfriaClient and its resources: client.chat.completions.create(...), client.documents.upload(...), …

import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { Transport } from './transport.js';

// a path segment; dots encoded too, so that an id such as '..' cannot be resolved into another endpoint's path
// Ids that are empty, '.', '..' or hold '/' are refused: `new URL()` resolves even '%2E%2E' as '..'.
function segment(text) {
  let decoded;
  try {
    decoded = decodeURIComponent(text);
  } catch {
    decoded = text;
  }
  if (decoded === '' || decoded === '.' || decoded === '..' || (decoded.includes('/') && !text.includes('/'))) {
    throw new TypeError(`not a valid id for a URL path: ${JSON.stringify(text)}`);
  }
  return text;
}
const id = (value) => {
  const text = segment(String(value));
  if (text.includes('/')) throw new TypeError(`an id cannot contain '/': ${JSON.stringify(text)}`);
  return encodeURIComponent(text);
};
const defined = (object) => Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined && v !== null));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
// the longest a request of documents.wait asks the platform to hold it (it allows 30): below proxies' read time-outs
const WAIT_SECONDS = 20;

/**
 * A client of one Osfria platform. `baseURL` is the platform's host (`https://osfria.entreprise.local`); the SDK
 * calls `<baseURL>/api/v1/…` (a URL already ending in `/api/v1` or `/v1` is used as it is). Defaults:
 * `OSFRIA_API_KEY`, `OSFRIA_BASE_URL` (else `http://localhost:8080`), `timeout` 60 s, `maxRetries` 2 (connection
 * errors, 429, 502, 503, 504, after `Retry-After` or exponential back-off with jitter), `maxRetryWait` 30 s (a
 * longer wait is not slept: the error is thrown).
 */
export class OsfriaClient {
  constructor({ apiKey, baseURL, timeout = 60, maxRetries = 2, maxRetryWait = 30, fetch } = {}) {
    apiKey = apiKey ?? process.env.OSFRIA_API_KEY;
    if (!apiKey) throw new TypeError('no API key: pass { apiKey } or set OSFRIA_API_KEY');
    this.baseURL = baseURL ?? process.env.OSFRIA_BASE_URL ?? 'http://localhost:8080';
    const http = new Transport({ apiKey, baseURL: this.baseURL, timeout, maxRetries, maxRetryWait, fetch });
    this.chat = { completions: new Completions(http, '/chat/completions') };
    this.completions = new Completions(http, '/completions');
    this.models = new Models(http);
    this.documents = new Documents(http);
    this.webhooks = new Webhooks(http);
    this.#http = http;
  }

  #http;

  /**
   * `POST /search`: the passages of `collection` this key may read nearest to `query`. `filters`: metadata
   * equality (an array means any of); `mode`: `dense`, `keyword` or `hybrid`.
   */
  search({ query, collection, filters, topK, scoreThreshold, mode }) {
    return this.#http.request('POST', '/search', {
      json: defined({ query, collection, filters, top_k: topK, score_threshold: scoreThreshold, mode }),
    });
  }

  /**
   * `GET /me`: this client's key as the platform knows it: `name`, `roles`, `admin`, `departments`,
   * `confidential`, `collections` (`read`, `write`, `read_any`, `write_any`, `truncated`) and `quotas`. Only this
   * key, never any key material.
   */
  me() {
    return this.#http.request('GET', '/me');
  }
}

class Completions {
  #http;
  #path;

  constructor(http, path) {
    this.#http = http;
    this.#path = path;
  }

  /** OpenAI's arguments, passed as they are; `stream: true` resolves to an async iterable of chunks. */
  create(params, { timeout } = {}) {
    return params?.stream
      ? this.#http.stream('POST', this.#path, params, { timeout })
      : this.#http.request('POST', this.#path, { json: params, timeout });
  }
}

class Models {
  #http;

  constructor(http) {
    this.#http = http;
  }

  list() {
    return this.#http.request('GET', '/models');
  }

  retrieve(model) {
    // model ids may hold '/', which the router accepts in the path (and the entry port refuses encoded); a '.' or
    // '..' (or empty) segment is refused, so that URL parsing cannot turn the id into another endpoint's path
    const segments = String(model).split('/').map((s) => encodeURIComponent(segment(s)));
    return this.#http.request('GET', '/models/' + segments.join('/'));
  }
}

class Documents {
  #http;

  constructor(http) {
    this.#http = http;
  }

  /**
   * Uploads `file` (a path, a Buffer/Uint8Array/ArrayBuffer or a Blob) into `collection`; answers at once with the
   * document (`status: 'processing'`). The same bytes again in the same collection answer the existing document.
   */
  upload({ file, collection, metadata, confidential, department, filename, timeout }) {
    return this.#send('POST', '/documents', { file, collection, metadata, confidential, department, filename, timeout });
  }

  /** A new version of the document: content, name and metadata replaced; `version` grows by one. */
  update(documentId, { file, metadata, confidential, department, filename, timeout }) {
    return this.#send('PUT', `/documents/${id(documentId)}`, { file, metadata, confidential, department, filename, timeout });
  }

  get(documentId) {
    return this.#http.request('GET', `/documents/${id(documentId)}`);
  }

  /** Every document of `collection` this key may read, fetching pages of `pageSize` as the loop goes. */
  async *list({ collection, pageSize = 50 }) {
    for (let offset = 0; ;) {
      const page = await this.#http.request('GET', '/documents', { query: { collection, offset, limit: pageSize } });
      yield* page.data;
      offset += page.data.length;
      if (page.data.length === 0 || offset >= page.total) return;
    }
  }

  async delete(documentId) {
    await this.#http.request('DELETE', `/documents/${id(documentId)}`);
  }

  /**
   * Resolves to the document once it is `indexed` or `failed` (a failed one says why in `error`), as soon as it is:
   * each request asks the platform to answer when the document settles (`GET /documents/{id}?wait=`, at most 20 s a
   * request), so nothing is polled. `onProgress(document)` is called with each answer; given one, each request is held
   * at most `pollInterval` seconds (1 to 20), so that progress comes about as often as polling gave it. `pollInterval`
   * (seconds) is also the pause before asking again when the platform answered at once although the document is
   * still processing (the key already holds all the waits it may, or a platform without `wait`). With less than a
   * second left, plain reads, the last one at `timeout`. Rejects with an Error named `TimeoutError` after `timeout`
   * seconds (`Infinity`: never).
   */
  async wait(documentId, { timeout = 300, onProgress, pollInterval = 1 } = {}) {
    const deadline = Date.now() + timeout * 1000;
    const longest = onProgress ? Math.min(WAIT_SECONDS, Math.max(1, pollInterval)) : WAIT_SECONDS;
    let failures = 0;
    for (;;) {
      const left = (deadline - Date.now()) / 1000;
      const asked = Date.now();
      // less than a second left: a plain read, as a wait of 1 s would outlast the time-out
      const seconds = left >= 1 ? Math.floor(Math.min(longest, left)) : 0;
      let document;
      try {
        // retried here, not by the transport: a retry asks only for the time left, and never pauses past it; the
        // request's own time-out counts from its answer's expected end
        document = await this.#http.request('GET', `/documents/${id(documentId)}`, seconds
          ? { query: { wait: seconds }, timeout: seconds + this.#http.timeout, retries: 0 }
          : { retries: 0 });
      } catch (error) {
        const pause = this.#http.retryPause(error, failures++);
        if (pause === null || Date.now() + pause * 1000 >= deadline) throw error;
        await sleep(pause * 1000);
        continue;
      }
      failures = 0;
      onProgress?.(document);
      if (document.status === 'indexed' || document.status === 'failed') return document;
      const answeredAtOnce = seconds === 0 || Date.now() - asked < (seconds * 1000) / 2;
      if (Date.now() >= deadline) {
        const error = new Error(`document ${documentId} still ${document.status} after ${timeout} s`);
        error.name = 'TimeoutError';
        throw error;
      }
      // a pause that would pass the deadline ends at it, for one last read
      await sleep(Math.min(answeredAtOnce ? pollInterval * 1000 : 0, deadline - Date.now()));
    }
  }

  async #send(method, path, { file, collection, metadata, confidential, department, filename, timeout }) {
    const { blob, name } = await toBlob(file, filename);
    const meta = { ...(metadata ?? {}), ...defined({ confidential, department }) };
    const form = new FormData();
    if (collection !== undefined) form.set('collection', collection);
    if (Object.keys(meta).length) form.set('metadata', JSON.stringify(meta));
    form.set('file', blob, name);
    return this.#http.request(method, path, { body: form, timeout });
  }
}

async function toBlob(file, filename) {
  if (typeof file === 'string' || file instanceof URL) {
    const path = file instanceof URL ? file.pathname : file;
    return { blob: new Blob([await readFile(file)]), name: filename ?? basename(path) };
  }
  if (file instanceof Blob) {
    return { blob: file, name: filename ?? file.name ?? 'document' };
  }
  if (file instanceof Uint8Array || file instanceof ArrayBuffer) {
    return { blob: new Blob([file]), name: filename ?? 'document' };
  }
  throw new TypeError('file is a path, a Buffer/Uint8Array/ArrayBuffer or a Blob');
}

/** Subscriptions: a key sees and changes its own, an admin key all. Verify deliveries with `verifyWebhook`. */
class Webhooks {
  #http;

  constructor(http) {
    this.#http = http;
  }

  /** The answer holds `secret` (generated `whsec_…` unless given): shown this once. */
  create({ url, events, secret, active }) {
    return this.#http.request('POST', '/webhooks', { json: defined({ url, events, secret, active }) });
  }

  async list() {
    return (await this.#http.request('GET', '/webhooks')).data;
  }

  get(webhookId) {
    return this.#http.request('GET', `/webhooks/${id(webhookId)}`);
  }

  /** Changes the given fields only; `active: true` re-activates a disabled subscription. */
  update(webhookId, { url, events, secret, active } = {}) {
    return this.#http.request('PUT', `/webhooks/${id(webhookId)}`, { json: defined({ url, events, secret, active }) });
  }

  async delete(webhookId) {
    await this.#http.request('DELETE', `/webhooks/${id(webhookId)}`);
  }

  /** Recent deliveries, newest first, each with its attempts (`history`). */
  async deliveries(webhookId, { limit } = {}) {
    return (await this.#http.request('GET', `/webhooks/${id(webhookId)}/deliveries`, { query: { limit } })).data;
  }

  /** One delivery again (same `webhook-id`), or without `deliveryId` every failed/exhausted one since `since`. */
  replay(webhookId, { deliveryId, since } = {}) {
    return deliveryId !== undefined
      ? this.#http.request('POST', `/webhooks/${id(webhookId)}/deliveries/${id(deliveryId)}/replay`)
      : this.#http.request('POST', `/webhooks/${id(webhookId)}/replay`, { query: { since } });
  }

  /** A signed `webhook.ping` delivery to the subscription's URL; resolves to `{ delivery_id }`. */
  ping(webhookId) {
    return this.#http.request('POST', `/webhooks/${id(webhookId)}/ping`);
  }
}
