import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { describe, test } from 'node:test';
import {
  APIConnectionError, APITimeoutError, AuthenticationError, BadRequestError, InsufficientStorageError,
  InternalServerError, NotFoundError, OsfriaClient, PermissionDeniedError, RateLimitError, VERSION,
} from '../src/index.js';
import { BASE_URL, MODEL, RUN, admin, closedPort, collection, key, platform, silent } from './support.mjs';

describe('errors the platform really answers', platform, () => {
  test('401 a wrong key', async () => {
    const client = new OsfriaClient({ apiKey: 'sk-osfria-not-a-key', baseURL: BASE_URL });
    await assert.rejects(client.models.list(), (e) => e instanceof AuthenticationError && e.status === 401 && e.type === 'authentication_error');
  });

  test("403 someone else's collection", async () => {
    const own = collection('own');
    const user = new OsfriaClient({ apiKey: await key('user', '--read', own, '--write', own), baseURL: BASE_URL });
    assert.equal((await user.documents.upload({ file: Buffer.from('le mien'), filename: 'mine.txt', collection: own })).status, 'processing');
    await assert.rejects(user.documents.upload({ file: Buffer.from('pas le mien'), filename: 'theirs.txt', collection: collection('other') }),
      (e) => e instanceof PermissionDeniedError && e.status === 403 && e.code === 'forbidden');
  });

  test('404 an unknown id', async () => {
    await assert.rejects(admin().documents.get('doc_000000000000000000000000'), (e) => e instanceof NotFoundError && e.code === 'not_found');
    await assert.rejects(admin().webhooks.get('wh_000000000000000000000000'), NotFoundError);
  });

  test('400 bad input', async () => {
    await assert.rejects(admin().search({ query: 'frais', collection: 'knowledge-base', topK: 1000 }), (e) => e instanceof BadRequestError && e.status === 400);
    await assert.rejects(admin().documents.upload({ file: Buffer.from('x'), filename: 'x.txt', collection: 'not a collection!' }), BadRequestError);
    await assert.rejects(admin().chat.completions.create({ model: MODEL, messages: [], max_tokens: -1 }), BadRequestError);
  });

  test('429 a spent daily quota is thrown at once, with retryAfter', async () => {
    const client = new OsfriaClient({ apiKey: await key('quota', '--daily-tokens', '1'), baseURL: BASE_URL, maxRetryWait: 5 });
    const started = Date.now();
    await assert.rejects(client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Bonjour '.repeat(20) }] }),
      (e) => e instanceof RateLimitError && e.status === 429 && e.code === 'quota_exceeded' && e.retryAfter > 5);
    assert.ok(Date.now() - started < 15_000);
  });
});

// here rather than in a file of its own: node runs each test file in a process of its own, and the key of the 403
// test above is made once per process (making a key takes seconds)
describe('GET /me', platform, () => {
  test('a key is told what it is and may do', async () => {
    const own = collection('own');
    const apiKey = await key('user', '--read', own, '--write', own);
    const me = await new OsfriaClient({ apiKey, baseURL: BASE_URL }).me();
    assert.deepEqual([me.object, me.name, me.admin], ['key', `js-user-${RUN}`, false]);
    assert.deepEqual(me.collections, { read: [own], write: [own], read_any: false, write_any: false, truncated: false });
    assert.ok(!JSON.stringify(me).includes(apiKey.slice(0, 14)), 'key material in the answer');
    const root = await admin().me();
    assert.ok(root.admin && root.collections.read_any && root.collections.write_any);
  });

  test('a wrong key is refused', async () => {
    await assert.rejects(new OsfriaClient({ apiKey: 'sk-osfria-not-a-key', baseURL: BASE_URL }).me(), AuthenticationError);
  });
});

describe('what no platform answer can show', () => {
  test('a connection error to a closed port, retried after a back-off', async () => {
    const client = new OsfriaClient({ apiKey: 'sk-osfria-x', baseURL: `http://127.0.0.1:${await closedPort()}`, maxRetries: 1 });
    const started = Date.now();
    await assert.rejects(client.models.list(), (e) => e instanceof APIConnectionError && !(e instanceof APITimeoutError) && e.status === undefined);
    assert.ok(Date.now() - started >= 300, 'not retried after a back-off');
  });

  test('a time-out', async () => {
    const server = await silent();
    try {
      const client = new OsfriaClient({ apiKey: 'sk-osfria-x', baseURL: server.url, timeout: 0.5 });
      const started = Date.now();
      await assert.rejects(client.chat.completions.create({ model: 'm', messages: [] }), APITimeoutError);
      assert.ok(Date.now() - started < 5000);
    } finally {
      await server.close();
    }
  });

  test('507 a full storage quota is thrown at once and not sent again', async () => {
    const seen = [];
    const server = createServer((request, response) => {
      seen.push(request.url);
      request.resume();
      request.on('end', () => response.writeHead(507, { 'Content-Type': 'application/json' })
        .end('{"error":{"message":"this key\'s storage quota is full","type":"insufficient_quota","code":"storage_quota_exceeded"}}'));
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const client = new OsfriaClient({ apiKey: 'sk-osfria-x', baseURL: `http://127.0.0.1:${server.address().port}` });
      await assert.rejects(client.documents.upload({ file: Buffer.from('Un document de trop'), filename: 'trop.txt',
        collection: 'knowledge-base' }), (e) => e instanceof InsufficientStorageError && e instanceof InternalServerError
        && e.status === 507 && e.code === 'storage_quota_exceeded');
    } finally {
      server.closeAllConnections?.();
      await new Promise((resolve) => server.close(resolve));
    }
    assert.deepEqual(seen, ['/api/v1/documents']);
  });

  test('503 is retried after Retry-After, and the user agent names the version', async () => {
    const seen = [];
    const server = createServer((request, response) => {
      seen.push({ at: Date.now(), agent: request.headers['user-agent'], path: request.url });
      if (seen.length === 1) {
        response.writeHead(503, { 'Content-Type': 'application/json', 'Retry-After': '1' })
          .end('{"error":{"message":"database restarting","type":"service_unavailable","code":"database_unavailable"}}');
      } else {
        response.writeHead(200, { 'Content-Type': 'application/json' }).end('{"object":"list","data":[]}');
      }
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const client = new OsfriaClient({ apiKey: 'sk-osfria-x', baseURL: `http://127.0.0.1:${server.address().port}` });
      assert.deepEqual((await client.models.list()).data, []);
    } finally {
      server.closeAllConnections?.();
      await new Promise((resolve) => server.close(resolve));
    }
    assert.equal(seen.length, 2);
    assert.ok(seen[1].at - seen[0].at >= 950, 'Retry-After: 1 was not honoured');
    assert.equal(seen[0].agent, `osfria-js/${VERSION}`);
    assert.equal(seen[0].path, '/api/v1/models');
  });
});
