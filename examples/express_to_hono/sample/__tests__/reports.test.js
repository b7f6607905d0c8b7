'use strict';
const test = require('node:test');
const assert = require('node:assert');
const router = require('../server/routes/reports');

test('GET /reports/signups totals by plan', async () => {
  const res = await router.request('GET', '/reports/signups');
  assert.strictEqual(res.status, 200);
  assert.strictEqual(res.body.total, 113);
  assert.deepStrictEqual(res.body.byPlan, { free: 98, pro: 15 });
});

test('GET /reports/signups honours the date range', async () => {
  const res = await router.request('GET', '/reports/signups', { query: { from: '2024-05-02', to: '2024-05-02' } });
  assert.deepStrictEqual(res.body, { from: '2024-05-02', to: '2024-05-02', total: 40, byPlan: { free: 31, pro: 9 } });
});

test('GET /reports/signups rejects an inverted range', async () => {
  const res = await router.request('GET', '/reports/signups', { query: { from: '2024-06-01', to: '2024-05-01' } });
  assert.strictEqual(res.status, 400);
});
