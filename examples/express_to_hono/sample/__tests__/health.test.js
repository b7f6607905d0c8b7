'use strict';
const test = require('node:test');
const assert = require('node:assert');
const router = require('../server/routes/health');

test('GET /health answers ok as text', async () => {
  const res = await router.request('GET', '/health');
  assert.strictEqual(res.status, 200);
  assert.strictEqual(res.body, 'ok');
});

test('GET /health/ready reports failing checks with 503', async () => {
  const ready = await router.request('GET', '/health/ready');
  assert.strictEqual(ready.body, 'ready');
  const down = await router.request('PUT', '/health/checks/cache', { body: { up: false } });
  assert.deepStrictEqual(down.body, { database: true, cache: false });
  const notReady = await router.request('GET', '/health/ready');
  assert.strictEqual(notReady.status, 503);
  assert.strictEqual(notReady.body, 'not ready: cache');
});

test('PUT /health/checks/:name answers 404 for unknown checks', async () => {
  const res = await router.request('PUT', '/health/checks/queue', { body: { up: true } });
  assert.strictEqual(res.status, 404);
  assert.strictEqual(res.body, 'no such check');
});
