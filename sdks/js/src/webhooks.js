// Checking that a webhook delivery comes from the platform, unchanged and recent.
//
// A delivery carries three HMAC-SHA256 signatures under the subscription's secret (for a `whsec_` secret the key is
// its base64 part, as Standard Webhooks says; any other secret is used as its UTF-8 bytes):
//   webhook-signature: v1,<base64>  over `<webhook-id>.<webhook-timestamp>.<body>` (Standard Webhooks);
//   X-Osfria-Signature: sha256=<hex> over the body;
//   the body's last field, "signature":"sha256=<hex>", over the body without that field.
// verifyWebhook checks all three on the raw bytes received (never on re-serialised JSON) and the timestamp.

import { createHmac, timingSafeEqual } from 'node:crypto';
import { OsfriaError } from './errors.js';

export const DEFAULT_TOLERANCE = 300; // seconds

/** The delivery is not authentic, was changed, or is too old (or from the future). */
export class WebhookVerificationError extends OsfriaError {}

const BODY_SIGNATURE = /,"signature":"sha256=([0-9a-f]{64})"\}$/;

/**
 * Returns the delivery's payload (`event`, `timestamp`, `data`, `signature`) once every check passed; throws
 * `WebhookVerificationError` otherwise. `body` is the request body exactly as received (a string, Buffer or
 * Uint8Array); `headers` a plain object (any case) or a `Headers`.
 */
export function verifyWebhook(body, headers, secret, { tolerance = DEFAULT_TOLERANCE, now } = {}) {
  const raw = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body);
  const header = headerReader(headers);
  const messageId = header('webhook-id');
  const timestamp = header('webhook-timestamp');
  const standard = header('webhook-signature');
  const osfria = header('x-osfria-signature');
  if (!messageId || !timestamp || !standard || !osfria) {
    throw new WebhookVerificationError('missing webhook-id, webhook-timestamp, webhook-signature or X-Osfria-Signature');
  }
  if (!/^\d+$/.test(timestamp)) throw new WebhookVerificationError('webhook-timestamp is not a number of seconds');
  const age = (now ?? Date.now() / 1000) - Number(timestamp);
  if (Math.abs(age) > tolerance) {
    throw new WebhookVerificationError(
      `webhook-timestamp is ${Math.round(age)} s off the clock (tolerance ${tolerance} s): a stale delivery or a replay`);
  }
  const key = keyOf(secret);

  const expected = hmac(key, Buffer.concat([Buffer.from(`${messageId}.${timestamp}.`, 'utf8'), raw])).toString('base64');
  const candidates = standard.split(/\s+/).filter((s) => s.startsWith('v1,')).map((s) => s.slice(3));
  if (!candidates.some((c) => same(expected, c))) throw new WebhookVerificationError('webhook-signature does not match');
  if (!same('sha256=' + hmac(key, raw).toString('hex'), osfria.trim())) {
    throw new WebhookVerificationError('X-Osfria-Signature does not match');
  }
  const text = raw.toString('latin1'); // one char per byte: offsets are byte offsets
  const match = BODY_SIGNATURE.exec(text);
  if (!match) throw new WebhookVerificationError('the body has no signature field at its end');
  const unsigned = Buffer.concat([raw.subarray(0, match.index), Buffer.from('}')]);
  if (!same(hmac(key, unsigned).toString('hex'), match[1])) {
    throw new WebhookVerificationError("the body's signature does not match");
  }
  return JSON.parse(raw.toString('utf8'));
}

function headerReader(headers) {
  if (typeof headers?.get === 'function') return (name) => headers.get(name);
  const lower = Object.fromEntries(Object.entries(headers ?? {}).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v[0] : v]));
  return (name) => lower[name];
}

function keyOf(secret) {
  if (secret.startsWith('whsec_')) {
    const encoded = secret.slice('whsec_'.length);
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(encoded)) throw new WebhookVerificationError('a whsec_ secret is base64 after its prefix');
    return Buffer.from(encoded, 'base64');
  }
  return Buffer.from(secret, 'utf8');
}

function hmac(key, data) {
  return createHmac('sha256', key).update(data).digest();
}

/** Constant-time comparison of two strings (different lengths differ, without comparing). */
function same(a, b) {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}
