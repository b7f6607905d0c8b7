'use strict';
const express = require('../../lib/express');

const router = express.Router();

const invoices = [
  {
    id: 'INV-1001',
    customer: 'acme',
    status: 'open',
    lines: [
      { description: 'Consulting', quantity: 10, unitCents: 15000 },
      { description: 'Travel', quantity: 1, unitCents: 42000 },
    ],
  },
  {
    id: 'INV-1002',
    customer: 'globex',
    status: 'paid',
    lines: [{ description: 'Licence', quantity: 3, unitCents: 9900 }],
  },
];

function total(invoice) {
  return invoice.lines.reduce((sum, line) => sum + line.quantity * line.unitCents, 0);
}

router.get('/invoices', (req, res) => {
  const status = req.query.status;
  const rows = invoices.filter((inv) => !status || inv.status === status);
  res.json(rows.map((inv) => ({ id: inv.id, customer: inv.customer, totalCents: total(inv) })));
});

router.get('/invoices/:id', (req, res) => {
  const invoice = invoices.find((inv) => inv.id === req.params.id);
  if (!invoice) return res.status(404).json({ error: 'invoice not found' });
  res.json({ ...invoice, totalCents: total(invoice) });
});

router.post('/invoices/:id/pay', (req, res) => {
  const invoice = invoices.find((inv) => inv.id === req.params.id);
  if (!invoice) return res.status(404).json({ error: 'invoice not found' });
  if (invoice.status === 'paid') return res.status(409).json({ error: 'already paid' });
  if (req.body.amountCents !== total(invoice)) {
    return res.status(422).json({ error: 'amount does not match the invoice total' });
  }
  invoice.status = 'paid';
  res.json({ id: invoice.id, status: invoice.status });
});

module.exports = router;
