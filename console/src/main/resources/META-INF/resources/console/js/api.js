// The public API, called with the key the user typed. The key lives in sessionStorage only: gone when the tab
// closes, never in localStorage, a cookie or a URL. The console has no privilege of its own.
const BASE = '/api/v1';
const KEY = 'osfria.key';

export const session = {
  key: () => sessionStorage.getItem(KEY),
  signIn: (key) => sessionStorage.setItem(KEY, key),
  signOut: () => sessionStorage.clear(),
};

/** An API refusal in the platform's OpenAI-shaped error: status, code and message. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || `HTTP ${status}`);
    this.status = status;
    this.code = code || '';
  }
}

async function errorOf(response) {
  let body = null;
  try { body = await response.json(); } catch (e) { /* not JSON */ }
  const e = body && body.error ? body.error : {};
  return new ApiError(response.status, e.code, e.message);
}

function headers(extra) {
  return Object.assign({ Authorization: `Bearer ${session.key()}` }, extra || {});
}

/** A JSON call: resolves to the parsed answer (null for 204), rejects with an ApiError. */
export async function call(method, path, { query, json, key } = {}) {
  const qs = query ? '?' + new URLSearchParams(Object.entries(query).filter(([, v]) => v !== '' && v != null)) : '';
  const init = { method, headers: headers(json !== undefined ? { 'Content-Type': 'application/json' } : {}) };
  if (key) init.headers.Authorization = `Bearer ${key}`;
  if (json !== undefined) init.body = JSON.stringify(json);
  let response;
  try {
    response = await fetch(BASE + path + qs, init);
  } catch (e) {
    throw new ApiError(0, 'network', e.message);
  }
  if (!response.ok) throw await errorOf(response);
  return response.status === 204 ? null : response.json();
}

/** A multipart upload through XMLHttpRequest, for its upload progress events (fetch has none). */
export function upload(method, path, form, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, BASE + path);
    xhr.setRequestHeader('Authorization', `Bearer ${session.key()}`);
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); };
    xhr.onerror = () => reject(new ApiError(0, 'network', 'network error'));
    xhr.onload = () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else reject(new ApiError(xhr.status, body && body.error && body.error.code, body && body.error && body.error.message));
    };
    xhr.send(form);
  });
}

/** A streamed chat completion (SSE over fetch): calls onDelta with each piece of content as it arrives. */
export async function streamChat(body, onDelta, signal) {
  const response = await fetch(BASE + '/chat/completions', {
    method: 'POST', signal,
    headers: headers({ 'Content-Type': 'application/json', Accept: 'text/event-stream' }),
    body: JSON.stringify(Object.assign({}, body, { stream: true })),
  });
  if (!response.ok) throw await errorOf(response);
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, end).trim();
      buffer = buffer.slice(end + 1);
      if (!line.startsWith('data:')) continue;
      const data = line.slice(5).trim();
      if (data === '[DONE]') return;
      const event = JSON.parse(data);
      if (event.error) throw new ApiError(200, event.error.code, event.error.message);
      const delta = event.choices && event.choices[0] && event.choices[0].delta;
      if (delta && delta.content) onDelta(delta.content);
    }
  }
}
