import { createHash } from "node:crypto";
import type { NextFunction, Request, Response } from "express";
import { Pool } from "pg";
import { lazy } from "../../util/lazy";

export interface ApiClient {
  id: string;
  name: string;
  dailyQuota: number;
}

const getPool = lazy(async () => {
  const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
  try {
    await pool.query("SELECT 1");
  } catch (err) {
    await pool.end();
    throw err;
  }
  return pool;
});

function hashKey(raw: string): string {
  return createHash("sha256").update(raw).digest("hex");
}

function secondsUntilUtcMidnight(now = new Date()): number {
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
  return Math.ceil((midnight - now.getTime()) / 1000);
}

async function findClient(rawKey: string): Promise<ApiClient | null> {
  const pool = await getPool();
  const { rows } = await pool.query<ApiClient>(
    `SELECT id, name, daily_quota AS "dailyQuota"
       FROM api_clients
      WHERE key_hash = $1 AND revoked_at IS NULL`,
    [hashKey(rawKey)],
  );
  return rows[0] ?? null;
}

/** Counts this request against today's usage; returns the post-increment total. */
async function recordUsage(clientId: string): Promise<number> {
  const pool = await getPool();
  const { rows } = await pool.query<{ count: number }>(
    `INSERT INTO api_usage (client_id, day, count)
          VALUES ($1, (now() AT TIME ZONE 'utc')::date, 1)
     ON CONFLICT (client_id, day)
     DO UPDATE SET count = api_usage.count + 1
       RETURNING count`,
    [clientId],
  );
  return rows[0].count;
}

export function requireApiKey() {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const raw = req.get("x-api-key");
    if (!raw) {
      res.status(401).json({ error: "missing_api_key" });
      return;
    }
    try {
      const client = await findClient(raw);
      if (!client) {
        res.status(401).json({ error: "invalid_api_key" });
        return;
      }
      const used = await recordUsage(client.id);
      if (used > client.dailyQuota) {
        res.setHeader("Retry-After", String(secondsUntilUtcMidnight()));
        res.status(429).json({ error: "quota_exceeded" });
        return;
      }
      res.locals.apiClient = client;
      next();
    } catch (err) {
      next(err);
    }
  };
}
