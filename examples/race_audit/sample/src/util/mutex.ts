/**
 * Promise-based mutex for serialising async critical sections inside a
 * single Node process. Waiters are served in FIFO order.
 */
export class Mutex {
  private tail: Promise<void> = Promise.resolve();

  /** Resolves with a release function once the lock is held. */
  async acquire(): Promise<() => void> {
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    // Chain onto the current tail synchronously so callers queue in call order.
    const previous = this.tail;
    this.tail = previous.then(() => held);
    await previous;

    let released = false;
    return () => {
      if (released) return;
      released = true;
      release();
    };
  }

  async runExclusive<T>(fn: () => Promise<T> | T): Promise<T> {
    const release = await this.acquire();
    try {
      return await fn();
    } finally {
      release();
    }
  }
}

/**
 * One mutex per key, created on demand and dropped again once nobody holds
 * or waits for it, so the map does not grow with every key ever seen.
 */
export class KeyedMutex {
  private readonly locks = new Map<string, { mutex: Mutex; refs: number }>();

  async runExclusive<T>(key: string, fn: () => Promise<T> | T): Promise<T> {
    let entry = this.locks.get(key);
    if (!entry) {
      entry = { mutex: new Mutex(), refs: 0 };
      this.locks.set(key, entry);
    }
    entry.refs++;
    try {
      return await entry.mutex.runExclusive(fn);
    } finally {
      entry.refs--;
      if (entry.refs === 0) this.locks.delete(key);
    }
  }

  get size(): number {
    return this.locks.size;
  }
}
