// Retries that never repeat work, ids that cannot leave their path, redirects, stream time-outs: loopback stand-in
// servers only, no platform needed.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { describe, test } from 'node:test';
import { APIConnectionError, APIError, APITimeoutError, OsfriaClient } from '../src/index.js';

async function serve(handle) {
  const seen = [];
  const server = createServer((request, response) => {
    let body = '';
    request.setEncoding('latin1');
    request.on('data', (c) => { body += c; });
    request.on('end', () => {
      seen.push({ method: request.method, path: request.url, body });
      handle(request, response, seen.length);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    seen,
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => { server.closeAllConnections?.(); return new Promise((resolve) => server.close(resolve)); },
  };
}

const reset = (request) => request.socket.resetAndDestroy?.() ?? request.socket.destroy();
const json = (status, text, headers = {}) => (request, response) =>
  response.writeHead(status, { 'Content-Type': 'application/json', ...headers }).end(text);

describe('retries never repeat work', () => {
  test('a POST reset after sending is not repeated', async () => {
    const server = await serve(reset);
    try {
      const client = new OsfriaClient({ apiKey: 'sk-osfria-x', baseURL: server.url });
      await assert.rejects(client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
        (e) => e instanceof APIConnectionError && !(e instanceof APITimeoutError));
    } finally {
      await server.close();
    }
    assert.equal(server.seen.length, 1, 'the POST was sent again after the connection broke');
  });

  test('a POST meeting 502 is not repeated', async () => {
    const server = await serve(json(502, 'bad gateway'));
    try {
      const client = new OsfriaClient({ apiKey: 'sk-osfria-x', baseURL: server.url });
      await assert.rejects(client.chat.completions.create({ model: 'm', messages: [] }), (e) => e.status === 502);
    } finally {
      await server.close();
    }
    assert.equal(server.seen.length, 1);
  });

  test('a GET reset after sending is retried', async () => {
    const server = await serve((request, response, n) => (n === 1 ? reset(request) : json(200, '{"object":"list","data":[]}')(request, response)));
    try {
      const client = new OsfriaClient({ apiKey: 'sk-osfria-x', baseURL: server.url });
      assert.deepEqual((await client.models.list()).data, []);
    } finally {
      await server.close();
    }
    assert.equal(server.seen.length, 2);
  });
});

describe('uploads refused for too many in progress', () => {
  test('are sent again after Retry-After, the whole file each time', async () => {
    const refusal = '{"error":{"message":"this API key has 16 uploads in progress","type":"rate_limit_error","code":"too_many_uploads"}}';
    const server = await serve((request, response, n) => (n === 1
      ? json(429, refusal, { 'Retry-After': '1' })(request, response)
      : json(202, '{"document_id":"doc_5f0c2a9d4e1b7c3a8f6e2d10","status":"processing"}')(request, response)));
    const text = 'Le rapport annuel. '.repeat(5000);
    try {
      const client = new OsfriaClient({ apiKey: 'sk-osfria-x', baseURL: server.url });
      const started = Date.now();
      const document = await client.documents.upload({ file: new TextEncoder().encode(text), collection: 'knowledge-base',
        filename: 'rapport.txt' });
      assert.equal(document.status, 'processing');
      assert.ok(Date.now() - started >= 900, 'Retry-After was not waited');
    } finally {
      await server.close();
    }
    assert.equal(server.seen.length, 2);
    assert.ok(server.seen[1].body.includes(text), 'the retried upload did not carry the whole file');
    assert.equal(server.seen[0].body.length, server.seen[1].body.length);
  });
});

describe('redirects', () => {
  test('308 throws and is not followed, so the key never reaches another host', async () => {
    const target = await serve(json(200, '{"object":"list","data":[]}'));
    const server = await serve((request, response) => response.writeHead(308, { Location: `${target.url}/api/v1/models` }).end());
    try {
      const client = new OsfriaClient({ apiKey: 'sk-osfria-x', baseURL: server.url });
      await assert.rejects(client.models.list(), (e) => e instanceof APIError && /redirect/.test(e.message));
    } finally {
      await server.close();
      await target.close();
    }
    assert.equal(server.seen.length, 1);
    assert.deepEqual(target.seen, [], 'the redirect was followed');
  });
});

describe('ids cannot leave their path segment', () => {
  test('empty, ".", ".." (also encoded) and "/" are refused; the URL handed to fetch stays in place', async () => {
    const urls = [];
    const fetch = async (url) => {
      urls.push(String(url));
      return new Response('{}', { status: 200, headers: { 'Content-Type': 'application/json' } });
    };
    const client = new OsfriaClient({ apiKey: 'sk-osfria-x', baseURL: 'http://127.0.0.1:9', fetch, maxRetries: 0 });
    for (const bad of ['', '.', '..', '%2E%2E', '%2e', '../documents/doc_x', 'a/b', 'a%2Fb']) {
      assert.throws(() => client.documents.get(bad), TypeError, JSON.stringify(bad));
    }
    for (const bad of ['../documents/doc_x', '..', 'a//b', 'org/%2E%2E', 'org/']) {
      assert.throws(() => client.models.retrieve(bad), TypeError, JSON.stringify(bad));
    }
    assert.deepEqual(urls, []);
    await client.models.retrieve('org/model.v1');
    await client.documents.get('doc_1.2');
    assert.deepEqual(urls, ['http://127.0.0.1:9/api/v1/models/org/model.v1', 'http://127.0.0.1:9/api/v1/documents/doc_1.2']);
  });
});

describe('streams', () => {
  test('a peer that stalls after the headers times out between chunks', async () => {
    const server = await serve((request, response) => {
      response.writeHead(200, { 'Content-Type': 'text/event-stream' });
      response.write('data: {"choices":[]}\n\n');
    });
    try {
      const client = new OsfriaClient({ apiKey: 'sk-osfria-x', baseURL: server.url, timeout: 0.5 });
      const started = Date.now();
      const chunks = [];
      await assert.rejects((async () => {
        for await (const chunk of await client.chat.completions.create({ model: 'm', messages: [], stream: true })) chunks.push(chunk);
      })(), APITimeoutError);
      assert.equal(chunks.length, 1);
      assert.ok(Date.now() - started < 2500);
    } finally {
      await server.close();
    }
  });
});
