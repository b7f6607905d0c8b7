'use strict';
const test = require('node:test');
const assert = require('node:assert');
const router = require('../server/routes/projects');

test('GET /projects lists every project', async () => {
  const res = await router.request('GET', '/projects');
  assert.strictEqual(res.status, 200);
  assert.strictEqual(res.body.count, 2);
});

test('GET /projects?state= filters the list', async () => {
  const res = await router.request('GET', '/projects', { query: { state: 'archived' } });
  assert.strictEqual(res.status, 200);
  assert.strictEqual(res.body.count, 1);
  assert.ok(res.body.data.every((row) => row.state === 'archived'));
});

test('GET /projects/:id finds one project or answers 404', async () => {
  const found = await router.request('GET', '/projects/1');
  assert.strictEqual(found.status, 200);
  assert.deepStrictEqual(found.body, { id: 1, name: 'Apollo', owner: 'ada', state: 'active' });
  const missing = await router.request('GET', '/projects/999');
  assert.strictEqual(missing.status, 404);
  assert.deepStrictEqual(missing.body, { error: 'project not found' });
});

test('POST /projects validates, then creates', async () => {
  const invalid = await router.request('POST', '/projects', { body: { name: 'Apollo-new' } });
  assert.strictEqual(invalid.status, 400);
  const created = await router.request('POST', '/projects', { body: { name: 'Apollo-new', owner: 'ada-new' } });
  assert.strictEqual(created.status, 201);
  assert.deepStrictEqual(created.body, { id: 3, name: 'Apollo-new', owner: 'ada-new', state: 'active' });
});

test('DELETE /projects/:id removes the project', async () => {
  const res = await router.request('DELETE', '/projects/2');
  assert.strictEqual(res.status, 204);
  const after = await router.request('GET', '/projects/2');
  assert.strictEqual(after.status, 404);
});
