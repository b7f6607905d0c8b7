'use strict';
const test = require('node:test');
const assert = require('node:assert');
const router = require('../server/routes/currencies');

test('GET /currencies lists the codes', async () => {
  const res = await router.request('GET', '/currencies');
  assert.strictEqual(res.status, 200);
  assert.deepStrictEqual(res.body, { base: 'USD', codes: ['USD', 'EUR', 'GBP', 'JPY'] });
});

test('GET /currencies/:code converts an amount', async () => {
  const res = await router.request('GET', '/currencies/eur', { query: { amount: '250' } });
  assert.strictEqual(res.status, 200);
  assert.deepStrictEqual(res.body, { code: 'EUR', rate: 0.92, converted: 230 });
});

test('GET /currencies/:code answers 404 for an unknown code', async () => {
  const res = await router.request('GET', '/currencies/xyz');
  assert.strictEqual(res.status, 404);
  assert.deepStrictEqual(res.body, { error: 'unknown currency XYZ' });
});
