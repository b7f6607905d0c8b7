'use strict';
const test = require('node:test');
const assert = require('node:assert');
const router = require('../server/routes/coupons');

test('GET /coupons lists every coupon', async () => {
  const res = await router.request('GET', '/coupons');
  assert.strictEqual(res.status, 200);
  assert.strictEqual(res.body.count, 2);
});

test('GET /coupons?kind= filters the list', async () => {
  const res = await router.request('GET', '/coupons', { query: { kind: 'fixed' } });
  assert.strictEqual(res.status, 200);
  assert.strictEqual(res.body.count, 1);
  assert.ok(res.body.data.every((row) => row.kind === 'fixed'));
});

test('GET /coupons/:id finds one coupon or answers 404', async () => {
  const found = await router.request('GET', '/coupons/1');
  assert.strictEqual(found.status, 200);
  assert.deepStrictEqual(found.body, { id: 1, code: 'WELCOME10', kind: 'percent', amount: 10 });
  const missing = await router.request('GET', '/coupons/999');
  assert.strictEqual(missing.status, 404);
  assert.deepStrictEqual(missing.body, { error: 'coupon not found' });
});

test('POST /coupons validates, then creates', async () => {
  const invalid = await router.request('POST', '/coupons', { body: { code: 'WELCOME10-new' } });
  assert.strictEqual(invalid.status, 400);
  const created = await router.request('POST', '/coupons', { body: { code: 'WELCOME10-new', kind: 'percent-new', amount: 10 } });
  assert.strictEqual(created.status, 201);
  assert.deepStrictEqual(created.body, { id: 3, code: 'WELCOME10-new', kind: 'percent-new', amount: 10 });
});

test('DELETE /coupons/:id removes the coupon', async () => {
  const res = await router.request('DELETE', '/coupons/2');
  assert.strictEqual(res.status, 204);
  const after = await router.request('GET', '/coupons/2');
  assert.strictEqual(after.status, 404);
});
