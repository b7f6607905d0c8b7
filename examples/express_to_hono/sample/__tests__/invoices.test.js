'use strict';
const test = require('node:test');
const assert = require('node:assert');
const router = require('../server/routes/invoices');

test('GET /invoices lists totals, optionally by status', async () => {
  const all = await router.request('GET', '/invoices');
  assert.deepStrictEqual(all.body, [
    { id: 'INV-1001', customer: 'acme', totalCents: 192000 },
    { id: 'INV-1002', customer: 'globex', totalCents: 29700 },
  ]);
  const paid = await router.request('GET', '/invoices', { query: { status: 'paid' } });
  assert.strictEqual(paid.body.length, 1);
});

test('GET /invoices/:id includes the total or answers 404', async () => {
  const found = await router.request('GET', '/invoices/INV-1002');
  assert.strictEqual(found.body.totalCents, 29700);
  const missing = await router.request('GET', '/invoices/INV-9');
  assert.strictEqual(missing.status, 404);
});

test('POST /invoices/:id/pay checks the amount, then conflicts', async () => {
  const wrong = await router.request('POST', '/invoices/INV-1001/pay', { body: { amountCents: 1 } });
  assert.strictEqual(wrong.status, 422);
  const paid = await router.request('POST', '/invoices/INV-1001/pay', { body: { amountCents: 192000 } });
  assert.deepStrictEqual(paid.body, { id: 'INV-1001', status: 'paid' });
  const again = await router.request('POST', '/invoices/INV-1001/pay', { body: { amountCents: 192000 } });
  assert.strictEqual(again.status, 409);
});
