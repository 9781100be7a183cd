import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import * as sdk from '../src/index.js';
import { SDK, npmVersionOf, pomVersion } from './support.mjs';

test('the SDK follows the platform version', () => {
  const pkg = JSON.parse(readFileSync(join(SDK, 'package.json'), 'utf8'));
  assert.equal(pkg.version, npmVersionOf(pomVersion()));
  assert.equal(sdk.VERSION, pkg.version);
});

test('the package has no runtime dependency and its type declarations name every export', () => {
  const pkg = JSON.parse(readFileSync(join(SDK, 'package.json'), 'utf8'));
  assert.deepEqual(pkg.dependencies ?? {}, {});
  const types = readFileSync(join(SDK, pkg.types), 'utf8');
  for (const name of Object.keys(sdk)) {
    assert.match(types, new RegExp(`export declare (class|function|const) ${name}\\b`), `${name} is not declared`);
  }
});
