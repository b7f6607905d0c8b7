import type { NextFunction, Request, Response } from "express";
import type { RedisClient } from "../store/session_store";

/** Backing store for request counters, keyed per client and window. */
export interface HitStore {
  get(key: string): Promise<number>;
  set(key: string, value: number, ttlMs: number): Promise<void>;
}

export class RedisHitStore implements HitStore {
  constructor(private readonly client: RedisClient) {}

  async get(key: string): Promise<number> {
    const raw = await this.client.get(key);
    return raw ? Number(raw) : 0;
  }

  async set(key: string, value: number, ttlMs: number): Promise<void> {
    await this.client.set(key, String(value), { PX: ttlMs });
  }
}

export interface RateLimitOptions {
  hitStore: HitStore;
  /** Requests allowed per window. */
  limit: number;
  windowMs: number;
  keyPrefix?: string;
}

function clientKey(req: Request, res: Response): string {
  const apiClient = res.locals.apiClient as { id: string } | undefined;
  if (apiClient) return `client:${apiClient.id}`;
  const session = res.locals.session as { userId: string } | undefined;
  return session ? `user:${session.userId}` : `ip:${req.ip}`;
}

/**
 * Fixed-window rate limiter. Each window gets its own key, so a key's TTL
 * only needs to outlive the window it belongs to.
 */
export function rateLimit({ hitStore, limit, windowMs, keyPrefix = "rl" }: RateLimitOptions) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const windowStart = Math.floor(Date.now() / windowMs) * windowMs;
    const key = `${keyPrefix}:${clientKey(req, res)}:${windowStart}`;
    try {
      // planted: finding id=R2 confidence=0.9 lines=48-55 state=hitStore bug="The counter is read with hitStore.get and written back as hits + 1 after an await, so a burst of concurrent requests all read the same count, all pass the limit check and overwrite each other's increment, letting far more than limit requests through." fix="Use an atomic increment (Redis INCR with PEXPIRE on first hit, or a Lua script) and compare the returned value against the limit."
      const hits = await hitStore.get(key);
      if (hits >= limit) {
        const retryAfter = Math.ceil((windowStart + windowMs - Date.now()) / 1000);
        res.setHeader("Retry-After", String(retryAfter));
        res.status(429).json({ error: "rate_limited" });
        return;
      }
      await hitStore.set(key, hits + 1, windowMs);
      res.setHeader("X-RateLimit-Limit", String(limit));
      res.setHeader("X-RateLimit-Remaining", String(Math.max(0, limit - hits - 1)));
      next();
    } catch (err) {
      next(err);
    }
  };
}
