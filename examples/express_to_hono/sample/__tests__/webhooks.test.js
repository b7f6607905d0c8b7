'use strict';
const test = require('node:test');
const assert = require('node:assert');
const router = require('../server/routes/webhooks');

test('POST /webhooks/:source accepts an event with 202', async () => {
  const res = await router.request('POST', '/webhooks/stripe', { body: { id: 'evt_42', type: 'invoice.paid' } });
  assert.strictEqual(res.status, 202);
  assert.deepStrictEqual(res.body, { id: 'evt_42', source: 'stripe', type: 'invoice.paid' });
});

test('POST /webhooks/:source needs an event type', async () => {
  const res = await router.request('POST', '/webhooks/github', { body: { id: 'evt_43' } });
  assert.strictEqual(res.status, 400);
  assert.strictEqual(res.body, 'missing event type');
});

test('POST /webhooks/:source answers 404 for unknown sources', async () => {
  const res = await router.request('POST', '/webhooks/jira', { body: { type: 'issue.created' } });
  assert.strictEqual(res.status, 404);
});

test('GET /webhooks lists received events by source', async () => {
  const res = await router.request('GET', '/webhooks', { query: { source: 'stripe' } });
  assert.strictEqual(res.body.count, 1);
  assert.strictEqual(res.body.events[0].type, 'invoice.paid');
});
