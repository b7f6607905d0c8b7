'use strict';
const express = require('../../lib/express');

const router = express.Router();

const checks = { database: true, cache: true };

router.get('/health', (req, res) => {
  res.send('ok');
});

router.get('/health/ready', (req, res) => {
  const failing = Object.keys(checks).filter((name) => !checks[name]);
  if (failing.length > 0) {
    return res.status(503).send(`not ready: ${failing.join(', ')}`);
  }
  res.send('ready');
});

router.put('/health/checks/:name', (req, res) => {
  if (!(req.params.name in checks)) return res.status(404).send('no such check');
  checks[req.params.name] = req.body.up === true;
  res.json(checks);
});

module.exports = router;
