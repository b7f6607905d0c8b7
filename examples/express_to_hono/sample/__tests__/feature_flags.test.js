'use strict';
const test = require('node:test');
const assert = require('node:assert');
const router = require('../server/routes/feature_flags');

test('GET /flags/:key returns the flag', async () => {
  const res = await router.request('GET', '/flags/new-checkout');
  assert.strictEqual(res.status, 200);
  assert.deepStrictEqual(res.body, { key: 'new-checkout', enabled: false, rollout: 0 });
});

test('GET /flags/:key answers 404 for an unknown key', async () => {
  const res = await router.request('GET', '/flags/nope');
  assert.strictEqual(res.status, 404);
  assert.deepStrictEqual(res.body, { error: 'no such flag' });
});

test('PUT /flags/:key changes editable fields', async () => {
  const res = await router.request('PUT', '/flags/dark-mode', { body: { enabled: true, rollout: 25 } });
  assert.strictEqual(res.status, 200);
  assert.deepStrictEqual(res.body, { key: 'dark-mode', enabled: true, rollout: 25 });
});

test('PUT /flags/:key refuses other fields with 422', async () => {
  const res = await router.request('PUT', '/flags/new-checkout', { body: { owner: 'ada' } });
  assert.strictEqual(res.status, 422);
  assert.deepStrictEqual(res.body, { error: 'cannot change owner' });
});
