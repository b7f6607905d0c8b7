'use strict';
const test = require('node:test');
const assert = require('node:assert');
const router = require('../server/routes/notifications');

test('GET /notifications/:id returns the notification', async () => {
  const res = await router.request('GET', '/notifications/ntf_1');
  assert.strictEqual(res.status, 200);
  assert.deepStrictEqual(res.body, { id: 'ntf_1', userId: 1, message: 'Your export is ready', status: 'unread' });
});

test('GET /notifications/:id answers 404 for an unknown id', async () => {
  const res = await router.request('GET', '/notifications/ntf_404');
  assert.strictEqual(res.status, 404);
});

test('POST /notifications rejects an invalid message', async () => {
  const res = await router.request('POST', '/notifications', { body: { userId: 3, message: '' } });
  assert.strictEqual(res.status, 400);
  assert.deepStrictEqual(res.body, { error: 'message is required' });
});

test('POST /notifications creates a unread notification', async () => {
  const res = await router.request('POST', '/notifications', { body: { userId: 3, message: 'Welcome aboard' } });
  assert.strictEqual(res.status, 201);
  assert.deepStrictEqual(res.body, { id: 'ntf_2', userId: 3, message: 'Welcome aboard', status: 'unread' });
});

test('POST /notifications/:id/read moves it once, then conflicts', async () => {
  const first = await router.request('POST', '/notifications/ntf_1/read', { body: {} });
  assert.strictEqual(first.status, 200);
  assert.strictEqual(first.body.status, 'read');
  const again = await router.request('POST', '/notifications/ntf_1/read', { body: {} });
  assert.strictEqual(again.status, 409);
  assert.deepStrictEqual(again.body, { error: 'notification is read' });
});
