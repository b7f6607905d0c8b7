'use strict';
const test = require('node:test');
const assert = require('node:assert');
const router = require('../server/routes/search');

test('GET /search finds titles case-insensitively', async () => {
  const res = await router.request('GET', '/search', { query: { q: 'INVOICE' } });
  assert.strictEqual(res.status, 200);
  assert.strictEqual(res.body.total, 2);
  assert.deepStrictEqual(res.body.results.map((r) => r.id), ['doc-2', 'doc-3']);
});

test('GET /search honours limit', async () => {
  const res = await router.request('GET', '/search', { query: { q: 'st', limit: '1' } });
  assert.strictEqual(res.status, 200);
  assert.strictEqual(res.body.total, 2);
  assert.strictEqual(res.body.results.length, 1);
});

test('GET /search rejects a query that is too short', async () => {
  const res = await router.request('GET', '/search', { query: { q: ' a ' } });
  assert.strictEqual(res.status, 400);
  assert.deepStrictEqual(res.body, { error: 'q must have at least 2 characters' });
});
