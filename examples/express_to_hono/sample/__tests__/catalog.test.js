'use strict';
const test = require('node:test');
const assert = require('node:assert');
const router = require('../server/routes/catalog');

test('GET /catalog pages through items cheapest first', async () => {
  const first = await router.request('GET', '/catalog');
  assert.strictEqual(first.status, 200);
  assert.strictEqual(first.body.pages, 3);
  assert.deepStrictEqual(first.body.items.map((i) => i.name), ['Anvil', 'Bolt cutter', 'Chisel']);
  const last = await router.request('GET', '/catalog', { query: { page: '3' } });
  assert.deepStrictEqual(last.body.items.map((i) => i.name), ['Gauge', 'Hammer']);
});

test('GET /catalog?sort=price_desc reverses the order', async () => {
  const res = await router.request('GET', '/catalog', { query: { sort: 'price_desc' } });
  assert.strictEqual(res.body.items[0].name, 'Hammer');
});

test('GET /catalog rejects a bad page', async () => {
  const res = await router.request('GET', '/catalog', { query: { page: '0' } });
  assert.strictEqual(res.status, 400);
});

test('GET /catalog/:id returns an item or 404', async () => {
  const found = await router.request('GET', '/catalog/4');
  assert.deepStrictEqual(found.body, { id: 4, name: 'Drill', priceCents: 1250 });
  const missing = await router.request('GET', '/catalog/99');
  assert.strictEqual(missing.status, 404);
  assert.deepStrictEqual(missing.body, { error: 'not in the catalog' });
});
