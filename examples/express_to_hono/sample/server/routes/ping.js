'use strict';
const express = require('../../lib/express');

const router = express.Router();

router.get('/ping', (req, res) => {
  res.send({ pong: true });
});

router.post('/ping/echo', (req, res) => {
  res.json({ echo: req.body.message || '' });
});

module.exports = router;
