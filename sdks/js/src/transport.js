// One request to the platform: time-out, retries with back-off, errors, server-sent events.

import { APIConnectionError, APIError, APITimeoutError, errorFor } from './errors.js';
import { VERSION } from './version.js';

export const USER_AGENT = `osfria-js/${VERSION}`;
// 429 and 503 say "later"; 502 and 504 are the entry port or ingress meeting a service that is restarting.
const RETRY_STATUSES = new Set([429, 502, 503, 504]);
// Retrying must never repeat work: only these methods are retried whenever the request may have reached the platform.
const IDEMPOTENT = new Set(['GET', 'HEAD', 'DELETE']);
// Failures that happen before any byte of the request left: any method may be retried after them.
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

/** GET/HEAD/DELETE: 429, 502, 503, 504. Others only when the platform certainly did nothing: 429, or a 503 in its JSON error shape. */
function mayRetry(method, status, error) {
  if (IDEMPOTENT.has(method)) return RETRY_STATUSES.has(status);
  if (status === 429) return true;
  return status === 503 && typeof error.body?.error === 'object' && error.body.error !== null;
}

/** The documentation's base URL is the host: `/api/v1` is appended unless it already ends in it or `/v1`. */
export function apiRoot(baseURL) {
  const base = String(baseURL).replace(/\/+$/, '');
  return base.endsWith('/api/v1') || base.endsWith('/v1') ? base : `${base}/api/v1`;
}

/** `Retry-After` in seconds: a number or an HTTP date; null if absent or unreadable. */
export function retryAfterSeconds(headers) {
  const value = headers['retry-after'];
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, (date - Date.now()) / 1000);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class Transport {
  constructor({ apiKey, baseURL, timeout, maxRetries, maxRetryWait, fetch: fetchImpl }) {
    this.apiKey = apiKey;
    this.root = apiRoot(baseURL);
    const scheme = new URL(this.root).protocol;
    if (scheme !== 'http:' && scheme !== 'https:') throw new TypeError(`baseURL must be http or https: ${baseURL}`);
    this.timeout = timeout;
    this.maxRetries = maxRetries;
    this.maxRetryWait = maxRetryWait;
    this.fetch = fetchImpl ?? globalThis.fetch;
  }

  /** Sends the request (retried as configured); the parsed JSON answer, or null for an empty one. */
  async request(method, path, { json, body, query, timeout, retries } = {}) {
    const { response, done } = await this.#send(method, path, { json, body, query, timeout, stream: false, retries });
    try {
      const text = await response.text();
      return text ? JSON.parse(text) : null;
    } catch (e) {
      throw this.#failure(e, timeout);
    } finally {
      done();
    }
  }

  /** A `stream: true` request: an async iterable of the parsed events, closed when the loop ends or breaks. */
  async stream(method, path, json, { timeout } = {}) {
    const { response, done, controller } = await this.#send(method, path, { json, timeout, stream: true });
    done(); // the headers came in time; from here each gap between chunks is held to the same limit
    return new Stream(response, controller, timeout ?? this.timeout);
  }

  async #send(method, path, { json, body, query, timeout, stream, retries }) {
    const url = new URL(this.root + path);
    for (const [k, v] of Object.entries(query ?? {})) {
      if (v !== undefined && v !== null) url.searchParams.set(k, String(v));
    }
    const headers = {
      Authorization: `Bearer ${this.apiKey}`,
      'User-Agent': USER_AGENT,
      Accept: stream ? 'text/event-stream' : 'application/json',
    };
    if (json !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(json);
    }
    for (let attempt = 0; ; attempt++) {
      const controller = new AbortController();
      const limit = timeout ?? this.timeout;
      const timer = setTimeout(() => controller.abort(new APITimeoutError(`no answer within ${limit} s`)), limit * 1000);
      const done = () => clearTimeout(timer);
      let response;
      try {
        // redirect: 'manual', so that the Authorization header is never sent to another host (http -> https, ...)
        response = await this.fetch(url, { method, headers, body, signal: controller.signal, redirect: 'manual' });
      } catch (e) {
        done();
        const failure = this.#failure(e, limit);
        if (failure instanceof APITimeoutError) throw failure; // the caller's limit: never doubled behind its back
        // a POST/PUT/PATCH whose bytes may have left is never resent: the platform may be doing its work
        const code = e?.cause?.code ?? e?.cause?.cause?.code ?? e?.code;
        if (!IDEMPOTENT.has(method) && !NOT_SENT.has(code)) throw failure;
        await this.#pauseOrThrow(attempt, null, failure, retries);
        continue;
      }
      if (response.ok) return { response, done, controller };
      if (response.type === 'opaqueredirect' || (response.status >= 300 && response.status < 400)) {
        done();
        controller.abort();
        const location = response.headers.get('location');
        throw new APIError(`the base URL ${new URL(this.root).origin} redirected (${response.status || 'redirect'}) to `
          + `${JSON.stringify(location)}: configure the final URL (e.g. https instead of http); the request was not `
          + 'followed, so the API key was not sent elsewhere', { status: response.status || null });
      }
      const error = await this.#error(response);
      done();
      if (!mayRetry(method, response.status, error)) throw error;
      await this.#pauseOrThrow(attempt, error.retryAfter ?? null, error, retries);
    }
  }

  /** Waits before the next attempt (`Retry-After`, else exponential back-off with jitter), or throws `error`. */
  async #pauseOrThrow(attempt, retryAfter, error, retries) {
    const delay = this.#pause(attempt, retryAfter, retries ?? this.maxRetries);
    if (delay === null) throw error;
    await sleep(delay * 1000);
  }

  #pause(attempt, retryAfter, retries) {
    if (attempt >= retries) return null;
    const delay = retryAfter ?? Math.min(0.5 * 2 ** attempt, 8) * (0.75 + Math.random() / 4);
    return delay > this.maxRetryWait ? null : delay;
  }

  /**
   * For a caller retrying a GET itself (after `retries: 0`): the pause in seconds before attempt `attempt + 1` as the
   * transport would take it, or null when the transport would not retry.
   */
  retryPause(error, attempt) {
    if (error instanceof APITimeoutError) return null;
    if (!(error instanceof APIConnectionError) && !RETRY_STATUSES.has(error?.status)) return null;
    return this.#pause(attempt, error.retryAfter ?? null, this.maxRetries);
  }

  #failure(e, limit) {
    if (e instanceof APIConnectionError) return e;
    if (e?.name === 'AbortError' || e?.name === 'TimeoutError' || e?.cause instanceof APITimeoutError) {
      return new APITimeoutError(`no answer within ${limit ?? this.timeout} s`, { cause: e });
    }
    const reason = e?.cause?.code ?? e?.cause?.message ?? e?.message;
    return new APIConnectionError(`cannot reach ${new URL(this.root).origin}: ${reason}`, { cause: e });
  }

  async #error(response) {
    const headers = Object.fromEntries(response.headers.entries());
    let body = null;
    try {
      const text = await response.text();
      try {
        body = text ? JSON.parse(text) : null;
      } catch {
        body = text;
      }
    } catch {
      // the connection broke while reading the error: the status says enough
    }
    return errorFor(response.status, body, headers, retryAfterSeconds(headers));
  }
}

/**
 * The chunks of a `stream: true` answer. Iterate it once with `for await`; leaving the loop early (`break`,
 * `return`, an exception) or `close()` closes the connection, which cancels the generation.
 */
export class Stream {
  #response;
  #controller;
  #idle;

  constructor(response, controller, idleSeconds) {
    this.#response = response;
    this.#controller = controller;
    this.#idle = idleSeconds;
    this.requestId = response.headers.get('x-request-id');
    this.closed = false;
  }

  async *[Symbol.asyncIterator]() {
    const reader = this.#response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    let data = [];
    try {
      for (;;) {
        let chunk;
        let timer;
        let silent = false;
        try {
          // a peer that stalls after the headers must not hang the loop forever: the time-out holds between chunks
          const idle = new Promise((_, reject) => {
            timer = setTimeout(() => {
              silent = true;
              reject(new APITimeoutError(`the stream fell silent longer than the time-out (${this.#idle} s)`));
            }, this.#idle * 1000);
          });
          chunk = await Promise.race([reader.read(), idle]);
        } catch (e) {
          if (silent) {
            this.#controller.abort(e);
            reader.cancel(e).catch(() => {});
            throw e;
          }
          throw new APIConnectionError(`the stream's connection broke: ${e?.cause?.code ?? e?.message}`, { cause: e });
        } finally {
          clearTimeout(timer);
        }
        if (chunk.done) break;
        buffer += decoder.decode(chunk.value, { stream: true });
        let newline;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, newline).replace(/\r$/, '');
          buffer = buffer.slice(newline + 1);
          if (line === '') {
            if (data.length) {
              const event = data.join('\n');
              data = [];
              if (event === '[DONE]') return;
              yield parseChunk(event, this.requestId, this.#response.status);
            }
          } else if (line.startsWith('data:')) {
            data.push(line.slice(5).replace(/^ /, ''));
          }
        }
      }
      if (data.length && data.join('\n') !== '[DONE]') yield parseChunk(data.join('\n'), this.requestId, this.#response.status);
    } finally {
      this.close();
    }
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    this.#controller.abort();
  }
}

function parseChunk(event, requestId, status) {
  const chunk = JSON.parse(event);
  if (chunk && typeof chunk.error === 'object' && chunk.error) {
    throw new APIError(chunk.error.message ?? 'the stream failed',
      { status, code: chunk.error.code, type: chunk.error.type, requestId, body: chunk });
  }
  return chunk;
}
