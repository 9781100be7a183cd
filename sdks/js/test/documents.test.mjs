import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { NotFoundError } from '../src/index.js';
import { RUN, admin, collection, platform } from './support.mjs';

describe('documents and search', platform, () => {
  const client = platform.skip ? null : admin();

  test('upload a path → wait → search finds it → new version → delete', async () => {
    const docs = collection('docs');
    const path = join(mkdtempSync(join(tmpdir(), 'osfria-')), 'frais.txt');
    writeFileSync(path, `Note de frais ${RUN}: la procédure de remboursement passe par le formulaire bleu.`);
    const uploaded = await client.documents.upload({ file: path, collection: docs, metadata: { author: 'compta' }, department: 'finance' });
    assert.deepEqual([uploaded.filename, uploaded.status, uploaded.collection], ['frais.txt', 'processing', docs]);

    const seen = [];
    const document = await client.documents.wait(uploaded.document_id, { timeout: 120, pollInterval: 0.5, onProgress: (d) => seen.push(d.status) });
    assert.equal(document.status, 'indexed', JSON.stringify(document));
    assert.equal(seen.at(-1), 'indexed');
    assert.equal(document.metadata.department, 'finance');

    const found = await client.search({ query: `remboursement formulaire bleu ${RUN}`, collection: docs, filters: { department: 'finance' }, topK: 3, mode: 'hybrid' });
    assert.ok(found.results.some((r) => r.document_id === uploaded.document_id), JSON.stringify(found));
    const none = await client.search({ query: 'remboursement', collection: docs, filters: { department: 'rh' } });
    assert.deepEqual(none.results, []);

    const updated = await client.documents.update(uploaded.document_id, { file: new Blob(['Version deux: formulaire vert.']), filename: 'frais-v2.txt' });
    assert.deepEqual([updated.version, updated.filename], [2, 'frais-v2.txt']);
    await client.documents.delete(uploaded.document_id);
    await assert.rejects(client.documents.get(uploaded.document_id), NotFoundError);
  });

  test('list walks every page; Buffer and Uint8Array uploads; the same bytes answer the same document', async () => {
    const pages = collection('pages');
    const ids = new Set();
    for (let i = 0; i < 5; i++) {
      const file = i % 2 ? Buffer.from(`Page ${i} ${RUN}`) : new TextEncoder().encode(`Page ${i} ${RUN}`);
      ids.add((await client.documents.upload({ file, filename: `p${i}.txt`, collection: pages })).document_id);
    }
    const listed = [];
    for await (const d of client.documents.list({ collection: pages, pageSize: 2 })) listed.push(d.document_id);
    assert.equal(listed.length, 5);
    assert.deepEqual(new Set(listed), ids);
    const again = await client.documents.upload({ file: Buffer.from(`Page 0 ${RUN}`), filename: 'copy.txt', collection: pages });
    assert.ok(ids.has(again.document_id));
  });
});
