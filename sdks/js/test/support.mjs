// What the tests need of the platform they run against: its URL and an admin key from the environment, keys of
// their own made with `osfria keys create`, a loopback webhook receiver. Environment: OSFRIA_BASE_URL and
// OSFRIA_API_KEY (an admin key); OSFRIA_HOME (the repository, by default the one holding these tests) and
// OSFRIA_DATA (its data directory, as for `./osfria up`) tell `osfria keys` which key file to write. Without the
// first two, the tests that need a platform are skipped. (No tests in this file.)

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { AuthenticationError, OsfriaClient } from '../src/index.js';

export const SDK = dirname(dirname(fileURLToPath(import.meta.url)));
export const HOME = process.env.OSFRIA_HOME || dirname(dirname(SDK));
export const BASE_URL = process.env.OSFRIA_BASE_URL;
export const ADMIN_KEY = process.env.OSFRIA_API_KEY;
export const RUN = randomBytes(4).toString('hex');
export const MODEL = 'deepseek-r2-78b-int4';
/** `{ skip }` for the tests that need a platform. */
export const platform = BASE_URL && ADMIN_KEY ? {} : { skip: 'set OSFRIA_BASE_URL and OSFRIA_API_KEY (an admin key)' };

export const admin = (options = {}) => new OsfriaClient({ apiKey: ADMIN_KEY, baseURL: BASE_URL, ...options });
export const collection = (name) => `js-${name}-${RUN}`;

const keys = new Map();

/** A key of this run, made once with `osfria keys create NAME OPTIONS…`, resolved once every service knows it. */
export async function key(name, ...options) {
  if (!keys.has(name)) {
    const { stdout } = await promisify(execFile)(join(HOME, 'osfria'), ['keys', 'create', `js-${name}-${RUN}`, ...options],
      { timeout: 60_000 });
    const created = stdout.trim().split('\n').pop();
    await awaitKnown(created);
    keys.set(name, created);
  }
  return keys.get(name);
}

/** Services re-read the key file every few seconds, each on its own: wait until all four accept the key. */
async function awaitKnown(apiKey, seconds = 30) {
  const client = new OsfriaClient({ apiKey, baseURL: BASE_URL, maxRetries: 0 });
  const probes = [
    () => client.models.list(),
    () => client.documents.list({ collection: 'any' }).next(),
    () => client.webhooks.list(),
    () => client.search({ query: 'x', collection: 'any' }),
  ];
  const deadline = Date.now() + seconds * 1000;
  for (const probe of probes) {
    for (;;) {
      try {
        await probe();
        break;
      } catch (e) {
        if (!(e instanceof AuthenticationError)) break; // known, refused for another reason (404 on a collection)
        if (Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }
}

/** An HTTP server on 127.0.0.1 answering 204 and keeping each request (lower-case headers, raw body). */
export async function receiver() {
  const waiting = [];
  const received = [];
  const server = createServer((request, response) => {
    const parts = [];
    request.on('data', (part) => parts.push(part));
    request.on('end', () => {
      const delivery = { headers: { ...request.headers }, body: Buffer.concat(parts) };
      response.writeHead(204).end();
      received.push(delivery);
      waiting.splice(0).forEach((wake) => wake());
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/hooks`,
    /** The first request (received so far or later) for which `predicate` holds. */
    async next(predicate, seconds = 60) {
      const deadline = Date.now() + seconds * 1000;
      for (;;) {
        const found = received.find(predicate);
        if (found) {
          received.splice(received.indexOf(found), 1);
          return found;
        }
        if (Date.now() > deadline) throw new Error(`no matching delivery within ${seconds} s`);
        await new Promise((resolve) => {
          waiting.push(resolve);
          setTimeout(resolve, 500);
        });
      }
    },
    close: () => {
      server.closeAllConnections?.(); // the platform's client keeps connections alive
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

export const eventOf = (delivery) => JSON.parse(delivery.body.toString('utf8'));

/** A loopback port nothing listens on. */
export async function closedPort() {
  const server = createTcpServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A loopback server that accepts connections and never answers. */
export async function silent() {
  const sockets = [];
  const server = createTcpServer((socket) => sockets.push(socket));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => {
      sockets.forEach((s) => s.destroy());
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

export function pomVersion() {
  const pom = readFileSync(join(HOME, 'pom.xml'), 'utf8');
  // the project's own version: the first <version> after the parent's <artifactId>
  return /<artifactId>osfria-parent<\/artifactId>\s*<version>([^<]+)<\/version>/.exec(pom)[1];
}

/** 0.1.0-SNAPSHOT → 0.1.0-dev.0 (semver); a release stays as it is. */
export const npmVersionOf = (maven) => (maven.endsWith('-SNAPSHOT') ? maven.replace(/-SNAPSHOT$/, '-dev.0') : maven);
