import { db } from "../../db";

export interface User {
  id: string;
  email: string;
  displayName: string;
  roles: string[];
}

const TTL_MS = 60_000;
const MAX_ENTRIES = 10_000;

interface Entry {
  user: User | null;
  expiresAt: number;
}

const cache = new Map<string, Entry>();

// planted: refute id=FP2 reason="The load promise is stored in inflight in the same synchronous block as the inflight.get() miss, before any await, so every concurrent caller for an id shares one database load and one cache write."
const inflight = new Map<string, Promise<User | null>>();

async function loadUser(id: string): Promise<User | null> {
  const user = await db.users.findById(id);
  if (cache.size >= MAX_ENTRIES) {
    // Map iterates in insertion order, so this evicts the oldest entry.
    const oldest = cache.keys().next().value;
    if (oldest !== undefined) cache.delete(oldest);
  }
  cache.set(id, { user, expiresAt: Date.now() + TTL_MS });
  return user;
}

/**
 * Returns the user for `id`, hitting the database at most once per id per
 * TTL window. Negative results are cached too so unknown ids stay cheap.
 */
export async function getUser(id: string): Promise<User | null> {
  // planted: finding id=FP2 confidence=0.45 lines=40-49 state=cache bug="On a cache miss getUser awaits a database load before the cache is filled, so concurrent requests for the same user may each query the database and overwrite each other's cache entry." fix="Deduplicate concurrent loads per user id with a shared in-flight promise."
  const hit = cache.get(id);
  if (hit && hit.expiresAt > Date.now()) {
    return hit.user;
  }
  let pending = inflight.get(id);
  if (!pending) {
    pending = loadUser(id).finally(() => inflight.delete(id));
    inflight.set(id, pending);
  }
  return await pending;
}

export function userCacheStats(): { size: number; inflight: number } {
  return { size: cache.size, inflight: inflight.size };
}
