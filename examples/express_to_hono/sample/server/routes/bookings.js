'use strict';
const express = require('../../lib/express');

const router = express.Router();

const rooms = { 1: 'Orion', 2: 'Lyra' };
const bookings = [
  { id: 1, roomId: 1, slot: '09:00', confirmed: true },
  { id: 2, roomId: 1, slot: '11:00', confirmed: false },
  { id: 3, roomId: 2, slot: '14:00', confirmed: true },
];

router.get('/rooms/:roomId/bookings', (req, res) => {
  const roomId = Number(req.params.roomId);
  if (!rooms[roomId]) return res.status(404).json({ error: 'room not found' });
  let rows = bookings.filter((row) => row.roomId === roomId);
  if (req.query.confirmed !== undefined) {
    rows = rows.filter((row) => String(row.confirmed) === req.query.confirmed);
  }
  res.json(rows);
});

router.get('/rooms/:roomId/bookings/:bookingId', (req, res) => {
  const roomId = Number(req.params.roomId);
  const row = bookings.find((r) => r.roomId === roomId && r.id === Number(req.params.bookingId));
  if (!row) return res.status(404).json({ error: 'booking not found in this room' });
  res.json(row);
});

router.post('/rooms/:roomId/bookings', (req, res) => {
  const roomId = Number(req.params.roomId);
  if (!rooms[roomId]) return res.status(404).json({ error: 'room not found' });
  const slot = req.body.slot;
  if (!slot) return res.status(400).json({ error: 'slot is required' });
  const row = { id: bookings.length + 1, roomId, slot, confirmed: false };
  bookings.push(row);
  res.status(201).json(row);
});

module.exports = router;
