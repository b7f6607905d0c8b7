import { db } from "../db";

export interface Wallet {
  id: string;
  ownerId: string;
  balanceCents: number;
  currency: string;
}

export class WalletNotFoundError extends Error {
  constructor(readonly walletId: string) {
    super(`wallet ${walletId} not found`);
  }
}

export class InsufficientFundsError extends Error {
  constructor(readonly walletId: string, readonly requestedCents: number, readonly availableCents: number) {
    super(`wallet ${walletId}: requested ${requestedCents}, available ${availableCents}`);
  }
}

export const walletRepo = {
  async findById(id: string): Promise<Wallet | null> {
    const { rows } = await db.query<Wallet>(
      `SELECT id, owner_id AS "ownerId", balance_cents AS "balanceCents", currency
         FROM wallets WHERE id = $1`,
      [id],
    );
    return rows[0] ?? null;
  },

  async setBalance(id: string, balanceCents: number): Promise<void> {
    await db.query(`UPDATE wallets SET balance_cents = $2, updated_at = now() WHERE id = $1`, [id, balanceCents]);
  },

  async increment(id: string, deltaCents: number): Promise<number> {
    const { rows } = await db.query<{ balanceCents: number }>(
      `UPDATE wallets SET balance_cents = balance_cents + $2, updated_at = now()
        WHERE id = $1
       RETURNING balance_cents AS "balanceCents"`,
      [id, deltaCents],
    );
    if (!rows[0]) throw new WalletNotFoundError(id);
    return rows[0].balanceCents;
  },
};

async function recordLedger(walletId: string, deltaCents: number, reason: string, balanceAfter: number): Promise<void> {
  await db.query(
    `INSERT INTO wallet_ledger (wallet_id, delta_cents, reason, balance_after_cents) VALUES ($1, $2, $3, $4)`,
    [walletId, deltaCents, reason, balanceAfter],
  );
}

function assertPositiveAmount(amountCents: number): void {
  if (!Number.isInteger(amountCents) || amountCents <= 0) {
    throw new RangeError(`amount must be a positive integer number of cents, got ${amountCents}`);
  }
}

export async function credit(walletId: string, amountCents: number, reason: string): Promise<number> {
  assertPositiveAmount(amountCents);
  const balance = await walletRepo.increment(walletId, amountCents);
  await recordLedger(walletId, amountCents, reason, balance);
  return balance;
}

/** Takes `amountCents` out of the wallet, refusing to go below zero. Returns the new balance. */
export async function debit(walletId: string, amountCents: number, reason: string): Promise<number> {
  assertPositiveAmount(amountCents);
  // planted: finding id=R3 confidence=0.85 lines=72-78 state=balanceCents bug="debit reads balanceCents, checks it, and after the awaits writes back an absolute balance derived from that stale read, so two concurrent debits both pass the funds check and the second write overwrites the first, accepting two payments (even beyond the available funds) while only one is deducted." fix="Make it one conditional statement, e.g. UPDATE wallets SET balance_cents = balance_cents - $2 WHERE id = $1 AND balance_cents >= $2 RETURNING balance_cents, or lock the row with SELECT ... FOR UPDATE in a transaction."
  const wallet = await walletRepo.findById(walletId);
  if (!wallet) throw new WalletNotFoundError(walletId);
  if (wallet.balanceCents < amountCents) {
    throw new InsufficientFundsError(walletId, amountCents, wallet.balanceCents);
  }
  const balance = wallet.balanceCents - amountCents;
  await walletRepo.setBalance(walletId, balance);
  await recordLedger(walletId, -amountCents, reason, balance);
  return balance;
}
