'use strict';
const test = require('node:test');
const assert = require('node:assert');
const router = require('../server/routes/locations');

test('GET /locations/nearby sorts stores by distance', async () => {
  const res = await router.request('GET', '/locations/nearby', { query: { lat: '50.1', lon: '8.7' } });
  assert.strictEqual(res.status, 200);
  assert.deepStrictEqual(res.body.map((s) => s.id), ['ber', 'par', 'lon']);
});

test('GET /locations/nearby honours radius', async () => {
  const res = await router.request('GET', '/locations/nearby', {
    query: { lat: '48.86', lon: '2.35', radius: '10' },
  });
  assert.deepStrictEqual(res.body, [{ id: 'par', city: 'Paris', km: 0 }]);
});

test('GET /locations/nearby needs coordinates', async () => {
  const res = await router.request('GET', '/locations/nearby', { query: { lat: 'north' } });
  assert.strictEqual(res.status, 400);
  assert.deepStrictEqual(res.body, { error: 'lat and lon are required numbers' });
});
