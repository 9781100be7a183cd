import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { NotFoundError, WebhookVerificationError, verifyWebhook } from '../src/index.js';
import { RUN, admin, collection, eventOf, platform, receiver } from './support.mjs';

// The receiver listens on 127.0.0.1: the platform must allow loopback targets (OSFRIA_WEBHOOK_ALLOWED_HOSTS lists
// 127.0.0.1, as the test platform of platform-local does).
describe('webhooks the platform really sent', platform, () => {
  let client;
  let hooks;
  let subscription;

  before(async () => {
    client = admin();
    hooks = await receiver();
    subscription = await client.webhooks.create({ url: hooks.url, events: ['document.indexed'] });
  });

  after(async () => {
    await client.webhooks.delete(subscription.id).finally(() => hooks.close());
  });

  test('a ping delivery verifies; tampered, wrongly keyed or stripped ones do not', async () => {
    assert.ok(subscription.secret.startsWith('whsec_'));
    const { delivery_id: deliveryId } = await client.webhooks.ping(subscription.id);
    const delivery = await hooks.next((d) => d.headers['webhook-id'] === deliveryId);

    const payload = verifyWebhook(delivery.body, delivery.headers, subscription.secret);
    assert.equal(payload.event, 'webhook.ping');
    assert.equal(payload.data.subscription_id, subscription.id);
    assert.equal(verifyWebhook(delivery.body.toString('utf8'), new Headers(delivery.headers), subscription.secret).event, 'webhook.ping');

    const tampered = Buffer.from(delivery.body.toString('utf8').replace(subscription.id, 'wh_000000000000000000000000'));
    assert.throws(() => verifyWebhook(tampered, delivery.headers, subscription.secret), WebhookVerificationError);
    assert.throws(() => verifyWebhook(delivery.body, delivery.headers, 'whsec_' + Buffer.alloc(24, 7).toString('base64')), WebhookVerificationError);
    for (const dropped of ['webhook-signature', 'x-osfria-signature', 'webhook-timestamp']) {
      const headers = { ...delivery.headers };
      delete headers[dropped];
      assert.throws(() => verifyWebhook(delivery.body, headers, subscription.secret), WebhookVerificationError, dropped);
    }
    const forged = Buffer.from(delivery.body.toString('utf8').replace(payload.signature, 'sha256=' + '0'.repeat(64)));
    assert.throws(() => verifyWebhook(forged, delivery.headers, subscription.secret), WebhookVerificationError);
  });

  test('a stale or future delivery, or a wrong body signature field, is refused though the other signatures are right', async () => {
    const { delivery_id: deliveryId } = await client.webhooks.ping(subscription.id);
    const delivery = await hooks.next((d) => d.headers['webhook-id'] === deliveryId);
    const key = Buffer.from(subscription.secret.slice('whsec_'.length), 'base64');
    for (const [age, accepted] of [[0, true], [-600, false], [600, false]]) {
      const timestamp = String(Math.floor(Date.now() / 1000) + age);
      const signature = createHmac('sha256', key).update(`${deliveryId}.${timestamp}.`).update(delivery.body).digest('base64');
      const headers = { ...delivery.headers, 'webhook-timestamp': timestamp, 'webhook-signature': `v1,${signature}` };
      if (accepted) verifyWebhook(delivery.body, headers, subscription.secret);
      else assert.throws(() => verifyWebhook(delivery.body, headers, subscription.secret), /stale delivery or a replay/, `${age} s`);
    }
    // both headers re-signed over a body whose own signature field is wrong: the field alone refuses it
    const { signature } = JSON.parse(delivery.body.toString('utf8'));
    const forged = Buffer.from(delivery.body.toString('utf8').replace(signature, 'sha256=' + '0'.repeat(64)));
    const timestamp = String(Math.floor(Date.now() / 1000));
    const headers = {
      ...delivery.headers,
      'webhook-timestamp': timestamp,
      'webhook-signature': 'v1,' + createHmac('sha256', key).update(`${deliveryId}.${timestamp}.`).update(forged).digest('base64'),
      'x-osfria-signature': 'sha256=' + createHmac('sha256', key).update(forged).digest('hex'),
    };
    assert.throws(() => verifyWebhook(forged, headers, subscription.secret), /body's signature/);
  });

  test('a document.indexed delivery verifies, and its replay comes with the same webhook-id', async () => {
    const docs = collection('hooks');
    const uploaded = await client.documents.upload({ file: Buffer.from(`Annonce ${RUN}`), filename: 'a.txt', collection: docs });
    const delivery = await hooks.next((d) => eventOf(d).event === 'document.indexed' && eventOf(d).data.document_id === uploaded.document_id, 120);
    const payload = verifyWebhook(delivery.body, delivery.headers, subscription.secret);
    assert.deepEqual([payload.data.collection, payload.data.filename], [docs, 'a.txt']);

    // its attempt is written just after the receiver answered: wait until the API lists it
    let recorded;
    for (const deadline = Date.now() + 15_000; !recorded?.history?.length && Date.now() < deadline;) {
      recorded = (await client.webhooks.deliveries(subscription.id)).find((d) => d.id === delivery.headers['webhook-id']);
      if (!recorded?.history?.length) await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(recorded.event, 'document.indexed');
    assert.equal(recorded.history[0].status_code, 204);
    assert.equal((await client.webhooks.replay(subscription.id, { deliveryId: recorded.id })).replayed, 1);
    const again = await hooks.next((d) => d.headers['webhook-id'] === recorded.id);
    assert.equal(verifyWebhook(again.body, again.headers, subscription.secret).data.document_id, uploaded.document_id);
  });

  test('subscription lifecycle', async () => {
    const created = await client.webhooks.create({ url: hooks.url, events: ['document.failed'], secret: 's3cret-of-16-chars', active: false });
    assert.deepEqual([created.events, created.active], [['document.failed'], false]);
    assert.ok((await client.webhooks.list()).some((s) => s.id === created.id));
    assert.equal((await client.webhooks.get(created.id)).secret, undefined);
    const updated = await client.webhooks.update(created.id, { events: ['document.failed', 'document.deleted'], active: true });
    assert.deepEqual([updated.events, updated.active], [['document.failed', 'document.deleted'], true]);
    assert.equal((await client.webhooks.replay(created.id, { since: '2026-01-01T00:00:00Z' })).replayed, 0);
    await client.webhooks.delete(created.id);
    await assert.rejects(client.webhooks.get(created.id), NotFoundError);
  });
});

describe('webhook verification, signed here exactly as the platform signs (Signatures.java)', () => {
  const key = Buffer.alloc(32, 'k');
  const secret = `whsec_${key.toString('base64')}`;
  const hmac = (data) => createHmac('sha256', key).update(data);
  function delivery({ field, osfria } = {}) {
    const unsigned = '{"event":"webhook.ping","timestamp":"2026-01-01T00:00:00Z","data":{}}';
    const body = `${unsigned.slice(0, -1)},"signature":"${field ?? `sha256=${hmac(unsigned).digest('hex')}`}"}`;
    const timestamp = String(Math.floor(Date.now() / 1000));
    return [body, {
      'webhook-id': 'dlv_1', 'webhook-timestamp': timestamp,
      'webhook-signature': `v1,${hmac(`dlv_1.${timestamp}.${body}`).digest('base64')}`,
      'x-osfria-signature': osfria ?? `sha256=${hmac(body).digest('hex')}`,
    }];
  }
  test('a correct delivery verifies', () => {
    const [body, headers] = delivery();
    assert.equal(verifyWebhook(body, headers, secret).event, 'webhook.ping');
  });
  test('a valid webhook-signature with a wrong X-Osfria-Signature is refused', () => {
    const [body, headers] = delivery({ osfria: `sha256=${'0'.repeat(64)}` });
    assert.throws(() => verifyWebhook(body, headers, secret), WebhookVerificationError);
  });
  test("a wrong body signature field alone is refused (both headers signed over that body)", () => {
    const [body, headers] = delivery({ field: `sha256=${'0'.repeat(64)}` });
    assert.throws(() => verifyWebhook(body, headers, secret), (e) => e instanceof WebhookVerificationError && /body/.test(e.message));
  });
});
