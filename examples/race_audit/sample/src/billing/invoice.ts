import { randomUUID } from "node:crypto";
import { mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { db, type Queryable } from "../db";
import { KeyedMutex } from "../util/mutex";
import { renderInvoicePdf } from "./render";
import { debit } from "./wallet";

export interface Invoice {
  id: string;
  number: string | null;
  customerId: string;
  status: "draft" | "issued" | "void";
  totalCents: number;
  issuedAt: Date | null;
}

const INVOICE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PDF_CACHE_DIR = process.env.INVOICE_PDF_DIR ?? path.join(process.cwd(), ".cache", "invoices");

const pdfLocks = new KeyedMutex();

/** Allocates the next sequential invoice number for `year` in a single statement. */
export async function nextInvoiceNumber(year: number, q: Queryable = db): Promise<string> {
  const { rows } = await q.query<{ last: number }>(
    `INSERT INTO invoice_sequences (year, last) VALUES ($1, 1)
     ON CONFLICT (year) DO UPDATE SET last = invoice_sequences.last + 1
     RETURNING last`,
    [year],
  );
  return `INV-${year}-${String(rows[0].last).padStart(6, "0")}`;
}

/**
 * Moves a draft to issued and assigns its number. Returns null if the invoice
 * was not a draft. Claiming the row first keeps numbers gap-free: a losing
 * caller never reaches the sequence, and a rollback undoes the allocation.
 */
export async function issueInvoice(invoiceId: string): Promise<Invoice | null> {
  return db.transaction(async (tx) => {
    const claimed = await tx.query(
      `UPDATE invoices SET status = 'issued', issued_at = now()
        WHERE id = $1 AND status = 'draft'
       RETURNING id`,
      [invoiceId],
    );
    if (claimed.rows.length === 0) return null;
    const number = await nextInvoiceNumber(new Date().getUTCFullYear(), tx);
    const { rows } = await tx.query<Invoice>(
      `UPDATE invoices SET number = $2 WHERE id = $1
       RETURNING id, number, customer_id AS "customerId", status, total_cents AS "totalCents", issued_at AS "issuedAt"`,
      [invoiceId, number],
    );
    return rows[0];
  });
}

async function loadIssuedInvoice(invoiceId: string): Promise<Invoice> {
  const { rows } = await db.query<Invoice>(
    `SELECT id, number, customer_id AS "customerId", status, total_cents AS "totalCents", issued_at AS "issuedAt"
       FROM invoices WHERE id = $1 AND status = 'issued'`,
    [invoiceId],
  );
  if (!rows[0]) throw new Error(`invoice ${invoiceId} is not issued`);
  return rows[0];
}

/**
 * Pays an issued invoice from the customer's wallet and records the payment.
 * Voiding lives in ./void.ts.
 */
// planted: related path=./void.ts
export async function payInvoice(invoiceId: string, walletId: string): Promise<void> {
  const invoice = await loadIssuedInvoice(invoiceId);
  await debit(walletId, invoice.totalCents, `invoice ${invoice.number}`);
  await db.query(
    `INSERT INTO payments (invoice_id, wallet_id, amount_cents) VALUES ($1, $2, $3)`,
    [invoiceId, walletId, invoice.totalCents],
  );
}

async function fileExists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw err;
  }
}

/**
 * Returns the rendered PDF for an issued invoice, rendering it on first use.
 * Issued invoices are immutable, so the cached file never goes stale.
 */
export async function getInvoicePdf(invoiceId: string): Promise<Buffer> {
  if (!INVOICE_ID.test(invoiceId)) throw new RangeError("malformed invoice id");
  const target = path.join(PDF_CACHE_DIR, `${invoiceId}.pdf`);

  // planted: refute id=FP1 reason="The exists check, render and write all run inside pdfLocks.runExclusive keyed by invoice id, so callers for the same invoice are serialised, and the write goes to a unique temp file followed by an atomic rename, so no reader can ever see a partial PDF."
  return pdfLocks.runExclusive(invoiceId, async () => {
    // planted: finding id=FP1 confidence=0.5 lines=103-112 state=PDF_CACHE_DIR bug="getInvoicePdf checks whether the cached PDF exists and only writes it after awaiting the render, so two concurrent downloads of the same invoice can both see it missing, render twice and one may read a half-written file." fix="Serialise rendering per invoice id and write via a temp file plus rename."
    if (await fileExists(target)) {
      return readFile(target);
    }
    const pdf = await renderInvoicePdf(await loadIssuedInvoice(invoiceId));
    await mkdir(PDF_CACHE_DIR, { recursive: true });
    // Write to a unique temp file and rename so readers never see a partial PDF.
    const tmp = `${target}.${process.pid}.${randomUUID()}.tmp`;
    await writeFile(tmp, pdf);
    await rename(tmp, target);
    return pdf;
  });
}
