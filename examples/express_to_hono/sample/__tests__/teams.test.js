'use strict';
const test = require('node:test');
const assert = require('node:assert');
const router = require('../server/routes/teams');

test('GET /teams lists every team', async () => {
  const res = await router.request('GET', '/teams');
  assert.strictEqual(res.status, 200);
  assert.strictEqual(res.body.count, 2);
});

test('GET /teams?plan= filters the list', async () => {
  const res = await router.request('GET', '/teams', { query: { plan: 'pro' } });
  assert.strictEqual(res.status, 200);
  assert.strictEqual(res.body.count, 1);
  assert.ok(res.body.data.every((row) => row.plan === 'pro'));
});

test('GET /teams/:id finds one team or answers 404', async () => {
  const found = await router.request('GET', '/teams/1');
  assert.strictEqual(found.status, 200);
  assert.deepStrictEqual(found.body, { id: 1, name: 'Platform', slug: 'platform', plan: 'pro' });
  const missing = await router.request('GET', '/teams/999');
  assert.strictEqual(missing.status, 404);
  assert.deepStrictEqual(missing.body, { error: 'team not found' });
});

test('POST /teams validates, then creates', async () => {
  const invalid = await router.request('POST', '/teams', { body: { name: 'Platform-new' } });
  assert.strictEqual(invalid.status, 400);
  const created = await router.request('POST', '/teams', { body: { name: 'Platform-new', slug: 'platform-new' } });
  assert.strictEqual(created.status, 201);
  assert.deepStrictEqual(created.body, { id: 3, name: 'Platform-new', slug: 'platform-new', plan: 'free' });
});

test('DELETE /teams/:id removes the team', async () => {
  const res = await router.request('DELETE', '/teams/2');
  assert.strictEqual(res.status, 204);
  const after = await router.request('GET', '/teams/2');
  assert.strictEqual(after.status, 404);
});
