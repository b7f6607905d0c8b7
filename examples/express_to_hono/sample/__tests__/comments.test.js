'use strict';
const test = require('node:test');
const assert = require('node:assert');
const router = require('../server/routes/comments');

test('GET /comments lists every comment', async () => {
  const res = await router.request('GET', '/comments');
  assert.strictEqual(res.status, 200);
  assert.strictEqual(res.body.count, 3);
});

test('GET /comments?author= filters the list', async () => {
  const res = await router.request('GET', '/comments', { query: { author: 'mia' } });
  assert.strictEqual(res.status, 200);
  assert.strictEqual(res.body.count, 2);
  assert.ok(res.body.data.every((row) => row.author === 'mia'));
});

test('GET /comments/:id finds one comment or answers 404', async () => {
  const found = await router.request('GET', '/comments/1');
  assert.strictEqual(found.status, 200);
  assert.deepStrictEqual(found.body, { id: 1, author: 'mia', text: 'Looks good to me' });
  const missing = await router.request('GET', '/comments/999');
  assert.strictEqual(missing.status, 404);
  assert.deepStrictEqual(missing.body, { error: 'comment not found' });
});

test('POST /comments validates, then creates', async () => {
  const invalid = await router.request('POST', '/comments', { body: { author: 'mia-new' } });
  assert.strictEqual(invalid.status, 400);
  const created = await router.request('POST', '/comments', { body: { author: 'mia-new', text: 'Looks good to me-new' } });
  assert.strictEqual(created.status, 201);
  assert.deepStrictEqual(created.body, { id: 4, author: 'mia-new', text: 'Looks good to me-new' });
});

test('DELETE /comments/:id removes the comment', async () => {
  const res = await router.request('DELETE', '/comments/2');
  assert.strictEqual(res.status, 204);
  const after = await router.request('GET', '/comments/2');
  assert.strictEqual(after.status, 404);
});
