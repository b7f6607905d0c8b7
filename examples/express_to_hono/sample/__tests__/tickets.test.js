'use strict';
const test = require('node:test');
const assert = require('node:assert');
const router = require('../server/routes/tickets');

test('GET /tickets lists every ticket', async () => {
  const res = await router.request('GET', '/tickets');
  assert.strictEqual(res.status, 200);
  assert.strictEqual(res.body.count, 2);
});

test('GET /tickets?priority= filters the list', async () => {
  const res = await router.request('GET', '/tickets', { query: { priority: 'high' } });
  assert.strictEqual(res.status, 200);
  assert.strictEqual(res.body.count, 1);
  assert.ok(res.body.data.every((row) => row.priority === 'high'));
});

test('GET /tickets/:id finds one ticket or answers 404', async () => {
  const found = await router.request('GET', '/tickets/1');
  assert.strictEqual(found.status, 200);
  assert.deepStrictEqual(found.body, { id: 1, subject: 'Login loop', priority: 'high', status: 'open' });
  const missing = await router.request('GET', '/tickets/999');
  assert.strictEqual(missing.status, 404);
  assert.deepStrictEqual(missing.body, { error: 'ticket not found' });
});

test('POST /tickets validates, then creates', async () => {
  const invalid = await router.request('POST', '/tickets', { body: { subject: 'Login loop-new' } });
  assert.strictEqual(invalid.status, 400);
  const created = await router.request('POST', '/tickets', { body: { subject: 'Login loop-new', priority: 'high-new' } });
  assert.strictEqual(created.status, 201);
  assert.deepStrictEqual(created.body, { id: 3, subject: 'Login loop-new', priority: 'high-new', status: 'open' });
});

test('DELETE /tickets/:id removes the ticket', async () => {
  const res = await router.request('DELETE', '/tickets/2');
  assert.strictEqual(res.status, 204);
  const after = await router.request('GET', '/tickets/2');
  assert.strictEqual(after.status, 404);
});
