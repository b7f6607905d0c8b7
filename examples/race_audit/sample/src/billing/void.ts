import { db } from "../db";

export class InvoiceHasPaymentsError extends Error {
  constructor(readonly invoiceId: string, readonly paidCents: number) {
    super(`invoice ${invoiceId} has ${paidCents} cents of payments; refund before voiding`);
  }
}

async function paidCents(invoiceId: string): Promise<number> {
  const { rows } = await db.query<{ paid: number }>(
    `SELECT COALESCE(SUM(amount_cents), 0) AS paid FROM payments WHERE invoice_id = $1`,
    [invoiceId],
  );
  return Number(rows[0].paid);
}

/**
 * Voids an issued invoice that has no payments. Returns false when the
 * invoice was not issued (already void, or still a draft).
 */
// planted: cross id=X1 files=src/billing/invoice.ts,src/billing/void.ts confidence=0.8 state=invoices.status bug="voidInvoice checks that no payment exists and only then flips status to void, while payInvoice in invoice.ts checks status = issued and only then debits the wallet and inserts the payment; interleaved, both checks pass, so a customer is charged for an invoice that ends up void." fix="Take a row lock on the invoice (SELECT ... FOR UPDATE) in both paths, or make payInvoice's insert conditional on status = 'issued' in the same transaction as the debit."
export async function voidInvoice(invoiceId: string): Promise<boolean> {
  const paid = await paidCents(invoiceId);
  if (paid > 0) throw new InvoiceHasPaymentsError(invoiceId, paid);
  const { rowCount } = await db.query(
    `UPDATE invoices SET status = 'void' WHERE id = $1 AND status = 'issued'`,
    [invoiceId],
  );
  return rowCount === 1;
}
