import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AuthenticationError, OsfriaClient } from '../src/index.js';
import { BASE_URL, RUN, admin, collection, key, platform } from './support.mjs';

describe('GET /me', platform, () => {
  test('a key is told what it is and may do', async () => {
    const own = collection('own');
    const apiKey = await key('me', '--read', own, '--write', own);
    const me = await new OsfriaClient({ apiKey, baseURL: BASE_URL }).me();
    assert.deepEqual([me.object, me.name, me.admin], ['key', `js-me-${RUN}`, false]);
    assert.deepEqual(me.collections, { read: [own], write: [own], read_any: false, write_any: false, truncated: false });
    assert.ok(!JSON.stringify(me).includes(apiKey.slice(0, 14)), 'key material in the answer');
    const root = await admin().me();
    assert.ok(root.admin && root.collections.read_any && root.collections.write_any);
  });

  test('a wrong key is refused', async () => {
    await assert.rejects(new OsfriaClient({ apiKey: 'sk-osfria-not-a-key', baseURL: BASE_URL }).me(), AuthenticationError);
  });
});
