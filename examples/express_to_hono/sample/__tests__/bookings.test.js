'use strict';
const test = require('node:test');
const assert = require('node:assert');
const router = require('../server/routes/bookings');

test('GET /rooms/:roomId/bookings lists the room\'s bookings', async () => {
  const res = await router.request('GET', '/rooms/1/bookings');
  assert.strictEqual(res.status, 200);
  assert.strictEqual(res.body.length, 2);
});

test('GET /rooms/:roomId/bookings?confirmed=true filters', async () => {
  const res = await router.request('GET', '/rooms/1/bookings', { query: { confirmed: 'true' } });
  assert.strictEqual(res.status, 200);
  assert.strictEqual(res.body.length, 1);
});

test('GET /rooms/:roomId/bookings answers 404 for an unknown room', async () => {
  const res = await router.request('GET', '/rooms/9/bookings');
  assert.strictEqual(res.status, 404);
  assert.deepStrictEqual(res.body, { error: 'room not found' });
});

test('GET /rooms/:roomId/bookings/:bookingId is scoped to the room', async () => {
  const own = await router.request('GET', '/rooms/2/bookings/3');
  assert.strictEqual(own.status, 200);
  assert.strictEqual(own.body.slot, '14:00');
  const other = await router.request('GET', '/rooms/1/bookings/3');
  assert.strictEqual(other.status, 404);
});

test('POST /rooms/:roomId/bookings creates a booking', async () => {
  const res = await router.request('POST', '/rooms/2/bookings', { body: { slot: '16:00' } });
  assert.strictEqual(res.status, 201);
  assert.deepStrictEqual(res.body, { id: 4, roomId: 2, slot: '16:00', confirmed: false });
});
