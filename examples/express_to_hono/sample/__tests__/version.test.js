'use strict';
const test = require('node:test');
const assert = require('node:assert');
const router = require('../server/routes/version');

test('GET /version returns the build as JSON', async () => {
  const res = await router.request('GET', '/version');
  assert.strictEqual(res.status, 200);
  assert.deepStrictEqual(res.body, { version: '2.14.0', commit: '9f1c2ab', builtAt: '2024-05-01' });
});

test('GET /version?format=text returns one line', async () => {
  const res = await router.request('GET', '/version', { query: { format: 'text' } });
  assert.strictEqual(res.body, '2.14.0 (9f1c2ab)');
});
