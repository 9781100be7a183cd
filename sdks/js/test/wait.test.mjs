import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { describe, test } from 'node:test';
import { OsfriaClient } from '../src/index.js';

const now = () => performance.now();

/**
 * A loopback stand-in for GET /documents/{id}: the document is indexed `indexedAfter` ms from now; a request with
 * `wait` is held until then (or its `wait` passes), as the platform does, unless among the first `capped`.
 */
async function platform({ indexedAfter, capped = 0, failing = false }) {
  const indexedAt = now() + indexedAfter;
  const seen = [];
  const server = createServer((request, response) => {
    const wait = new URL(request.url, 'http://x').searchParams.get('wait');
    seen.push({ at: now(), wait });
    // + 2 ms: a timer may fire a little before performance.now() says it is due
    const hold = wait && seen.length > capped ? Math.max(0, Math.min(indexedAt, now() + Number(wait) * 1000) - now()) + 2 : 0;
    setTimeout(() => {
      if (failing) { // the database lost during the wait: its read at the end answers 503
        const body = '{"error":{"message":"database unavailable","type":"service_unavailable","code":"database_unavailable"}}';
        response.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' }).end(body);
        return;
      }
      const body = JSON.stringify({ document_id: 'doc_x', status: now() >= indexedAt ? 'indexed' : 'processing' });
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
    }, hold);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    indexedAt,
    seen,
    client: new OsfriaClient({ apiKey: 'sk-osfria-x', baseURL: `http://127.0.0.1:${server.address().port}` }),
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }),
  };
}

describe('documents.wait asks the platform to answer once the document settles', () => {
  test('resolves as soon as the document is indexed, not at a poll', async () => {
    const p = await platform({ indexedAfter: 1300 });
    try {
      const document = await p.client.documents.wait('doc_x', { timeout: 60 });
      const late = now() - p.indexedAt;
      assert.equal(document.status, 'indexed');
      // polling every second would have answered at 2 s, 700 ms late
      assert.ok(late < 300, `resolved ${Math.round(late)} ms after the document was indexed`);
      assert.deepEqual(p.seen.map((s) => s.wait), ['20'], 'one request, asking to be held up to 20 s');
    } finally {
      await p.close();
    }
  });

  test('with onProgress, each request is held at most pollInterval', async () => {
    const p = await platform({ indexedAfter: 2500 });
    try {
      const seen = [];
      const document = await p.client.documents.wait('doc_x', { timeout: 60, pollInterval: 1, onProgress: (d) => seen.push(d.status) });
      const late = now() - p.indexedAt;
      assert.equal(document.status, 'indexed');
      assert.ok(late < 300, `resolved ${Math.round(late)} ms after the document was indexed`);
      const waits = p.seen.map((s) => s.wait);
      assert.ok(waits.length >= 3 && waits.every((w) => w === '1'), JSON.stringify(waits)); // progress about every second
      assert.equal(seen.length, waits.length);
      assert.equal(seen.at(-1), 'indexed');
    } finally {
      await p.close();
    }
  });

  test('an infinite time-out asks for the longest wait', async () => {
    const p = await platform({ indexedAfter: 300 });
    try {
      const document = await p.client.documents.wait('doc_x', { timeout: Infinity });
      assert.equal(document.status, 'indexed');
      assert.deepEqual(p.seen.map((s) => s.wait), ['20']);
    } finally {
      await p.close();
    }
  });

  test('a request answered at once is asked again after pollInterval', async () => {
    const p = await platform({ indexedAfter: 500, capped: 2 }); // the key's waits all taken: answered at once twice
    try {
      const document = await p.client.documents.wait('doc_x', { timeout: 60, pollInterval: 0.2 });
      assert.equal(document.status, 'indexed');
      assert.equal(p.seen.length, 3, JSON.stringify(p.seen));
      const gaps = p.seen.slice(1).map((s, i) => s.at - p.seen[i].at);
      assert.ok(gaps.every((gap) => gap >= 190), JSON.stringify(gaps));
    } finally {
      await p.close();
    }
  });

  test('time-out', async () => {
    const p = await platform({ indexedAfter: 3_600_000 });
    try {
      const started = now();
      await assert.rejects(p.client.documents.wait('doc_x', { timeout: 1.5 }), (e) => e.name === 'TimeoutError');
      const took = now() - started;
      // never past the time-out by more than a request's own round trip
      assert.ok(took > 1400 && took < 2000, String(took));
      for (const s of p.seen) {
        assert.ok(s.wait === null || s.at - started + Number(s.wait) * 1000 <= 1600, JSON.stringify(p.seen));
      }
    } finally {
      await p.close();
    }
  });

  test('a wait answered 503 is not asked again past the time-out', async () => {
    // the transport's own retries (Retry-After 1, twice) would ask for the same 2 s wait again: ~8 s in all
    const p = await platform({ indexedAfter: 3_600_000, failing: true });
    try {
      const started = now();
      await assert.rejects(p.client.documents.wait('doc_x', { timeout: 2.5 }), (e) => e.status === 503);
      const took = now() - started;
      assert.ok(took < 3000, `${Math.round(took)} ms: ${JSON.stringify(p.seen)}`);
    } finally {
      await p.close();
    }
  });
});
