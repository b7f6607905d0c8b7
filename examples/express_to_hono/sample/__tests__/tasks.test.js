'use strict';
const test = require('node:test');
const assert = require('node:assert');
const router = require('../server/routes/tasks');

test('GET /projects/:projectId/tasks lists the project\'s tasks', async () => {
  const res = await router.request('GET', '/projects/1/tasks');
  assert.strictEqual(res.status, 200);
  assert.strictEqual(res.body.length, 2);
});

test('GET /projects/:projectId/tasks?done=true filters', async () => {
  const res = await router.request('GET', '/projects/1/tasks', { query: { done: 'true' } });
  assert.strictEqual(res.status, 200);
  assert.strictEqual(res.body.length, 1);
});

test('GET /projects/:projectId/tasks answers 404 for an unknown project', async () => {
  const res = await router.request('GET', '/projects/9/tasks');
  assert.strictEqual(res.status, 404);
  assert.deepStrictEqual(res.body, { error: 'project not found' });
});

test('GET /projects/:projectId/tasks/:taskId is scoped to the project', async () => {
  const own = await router.request('GET', '/projects/2/tasks/3');
  assert.strictEqual(own.status, 200);
  assert.strictEqual(own.body.title, 'Archive docs');
  const other = await router.request('GET', '/projects/1/tasks/3');
  assert.strictEqual(other.status, 404);
});

test('POST /projects/:projectId/tasks creates a task', async () => {
  const res = await router.request('POST', '/projects/2/tasks', { body: { title: 'Ship it' } });
  assert.strictEqual(res.status, 201);
  assert.deepStrictEqual(res.body, { id: 4, projectId: 2, title: 'Ship it', done: false });
});
