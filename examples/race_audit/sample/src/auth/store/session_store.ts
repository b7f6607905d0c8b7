import { createClient } from "redis";

export type RedisClient = ReturnType<typeof createClient>;

export interface OAuthTokens {
  accessToken: string;
  refreshToken: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

export interface Session {
  id: string;
  userId: string;
  createdAt: number;
  oauthTokens: OAuthTokens;
}

const KEY_PREFIX = "sess:";

/**
 * Sessions live in a Redis hash per session id so individual fields can be
 * updated without rewriting (and clobbering) the rest of the session.
 */
export class SessionStore {
  private client: RedisClient | null = null;

  constructor(
    private readonly url: string,
    private readonly ttlSeconds = 60 * 60 * 24,
  ) {}

  // planted: finding id=R4 confidence=0.6 lines=34-42 state=client bug="Concurrent first requests all see this.client as null and each create and connect a Redis client across the await, so the later assignment overwrites the earlier one and the orphaned connection is never closed." fix="Cache the connect promise synchronously (for example with lazy() from util/lazy) so all callers share one client."
  private async getClient(): Promise<RedisClient> {
    if (!this.client) {
      const client: RedisClient = createClient({ url: this.url });
      client.on("error", (err) => console.error("session redis error", err));
      await client.connect();
      this.client = client;
    }
    return this.client;
  }

  async get(id: string): Promise<Session | null> {
    const client = await this.getClient();
    const raw = await client.hGetAll(KEY_PREFIX + id);
    if (!raw.userId) return null;
    return {
      id,
      userId: raw.userId,
      createdAt: Number(raw.createdAt),
      oauthTokens: JSON.parse(raw.oauthTokens) as OAuthTokens,
    };
  }

  async create(session: Session): Promise<void> {
    const client = await this.getClient();
    const key = KEY_PREFIX + session.id;
    await client
      .multi()
      .hSet(key, {
        userId: session.userId,
        createdAt: String(session.createdAt),
        oauthTokens: JSON.stringify(session.oauthTokens),
      })
      .expire(key, this.ttlSeconds)
      .exec();
  }

  /** Overwrites one field; fields written by other requests are left alone. */
  async setField<K extends "oauthTokens">(id: string, field: K, value: Session[K]): Promise<void> {
    const client = await this.getClient();
    const key = KEY_PREFIX + id;
    await client.multi().hSet(key, field, JSON.stringify(value)).expire(key, this.ttlSeconds).exec();
  }

  /** Sliding expiry: pushes the TTL out again. */
  async touch(id: string): Promise<boolean> {
    const client = await this.getClient();
    return client.expire(KEY_PREFIX + id, this.ttlSeconds);
  }

  async destroy(id: string): Promise<void> {
    const client = await this.getClient();
    await client.del(KEY_PREFIX + id);
  }

  async close(): Promise<void> {
    if (this.client) {
      await this.client.quit();
      this.client = null;
    }
  }
}

export const sessionStore = new SessionStore(process.env.REDIS_URL ?? "redis://localhost:6379");
