import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { ADMIN_KEY, BASE_URL, SDK, platform } from './support.mjs';

test("the documentation's JavaScript example runs as written", platform, async () => {
  // examples/quickstart.mjs imports '@osfria/sdk': the package resolves itself by its name (package.json exports)
  const { stdout, stderr } = await promisify(execFile)(process.execPath, [join(SDK, 'examples', 'quickstart.mjs')], {
    cwd: SDK, env: { ...process.env, OSFRIA_BASE_URL: BASE_URL, OSFRIA_API_KEY: ADMIN_KEY }, timeout: 60_000,
  });
  assert.equal(stderr, '', stdout);
});
