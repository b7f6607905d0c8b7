'use strict';
const test = require('node:test');
const assert = require('node:assert');
const router = require('../server/routes/tax_rates');

test('GET /tax/:country returns the standard or reduced rate', async () => {
  const standard = await router.request('GET', '/tax/de');
  assert.deepStrictEqual(standard.body, { country: 'DE', percent: 19, reduced: false });
  const books = await router.request('GET', '/tax/IE', { query: { category: 'books' } });
  assert.deepStrictEqual(books.body, { country: 'IE', percent: 13.5, reduced: true });
});

test('GET /tax/:country answers 404 for unsupported countries', async () => {
  const res = await router.request('GET', '/tax/zz');
  assert.strictEqual(res.status, 404);
});

test('POST /tax/:country/quote adds VAT', async () => {
  const res = await router.request('POST', '/tax/fr/quote', { body: { netCents: 1000 } });
  assert.strictEqual(res.status, 200);
  assert.deepStrictEqual(res.body, { netCents: 1000, taxCents: 200, grossCents: 1200 });
  const bad = await router.request('POST', '/tax/fr/quote', { body: { netCents: '10' } });
  assert.strictEqual(bad.status, 400);
});
