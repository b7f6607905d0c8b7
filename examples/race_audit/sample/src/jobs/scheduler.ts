import type { JobQueue } from "./queue";

export interface JobContext {
  params: Record<string, unknown>;
  source: "timer" | "manual";
  /** Hand follow-up work to the background queue instead of doing it inline. */
  enqueue: JobQueue["enqueue"];
}

export interface JobDefinition {
  name: string;
  intervalMs: number;
  handler: (ctx: JobContext) => Promise<void>;
}

export interface JobConfig {
  enabled: boolean;
  params: Record<string, unknown>;
}

/** Per-job settings that ops can change at runtime (feature flags service). */
export interface JobConfigSource {
  load(name: string): Promise<JobConfig>;
}

type Logger = Pick<Console, "info" | "error">;

/**
 * Runs registered jobs on fixed intervals. A job never overlaps with itself:
 * if the previous run is still going when the next tick (or a manual trigger
 * from the admin API) arrives, that trigger is skipped.
 */
export class Scheduler {
  private readonly jobs = new Map<string, JobDefinition>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly running = new Set<string>();

  constructor(
    private readonly configSource: JobConfigSource,
    private readonly queue: JobQueue,
    private readonly log: Logger = console,
  ) {}

  register(def: JobDefinition): void {
    if (this.jobs.has(def.name)) throw new Error(`job ${def.name} already registered`);
    this.jobs.set(def.name, def);
  }

  start(): void {
    for (const def of this.jobs.values()) {
      const timer = setInterval(() => void this.trigger(def.name, "timer"), def.intervalMs);
      timer.unref();
      this.timers.set(def.name, timer);
    }
  }

  stop(): void {
    for (const timer of this.timers.values()) clearInterval(timer);
    this.timers.clear();
  }

  /** Runs `name` now unless it is already running or disabled. Resolves true if it ran successfully. */
  async trigger(name: string, source: JobContext["source"]): Promise<boolean> {
    const def = this.jobs.get(name);
    if (!def) throw new Error(`unknown job ${name}`);

    // planted: finding id=R5 confidence=0.55 lines=68-74 state=running bug="trigger checks running before awaiting configSource.load but only adds the job name afterwards, so a timer tick and a manual trigger (or two ticks when the config lookup is slow) can both pass the check and run the same job concurrently." fix="Add the name to running synchronously right after the has() check (before any await) and remove it in finally, including on the disabled path."
    if (this.running.has(name)) {
      this.log.info(`job ${name} still running, skipping ${source} trigger`);
      return false;
    }
    const config = await this.configSource.load(name);
    if (!config.enabled) return false;
    this.running.add(name);

    const startedAt = Date.now();
    try {
      await def.handler({
        params: config.params,
        source,
        enqueue: this.queue.enqueue.bind(this.queue),
      });
      this.log.info(`job ${name} finished in ${Date.now() - startedAt}ms (${source})`);
      return true;
    } catch (err) {
      this.log.error(`job ${name} failed after ${Date.now() - startedAt}ms (${source})`, err);
      return false;
    } finally {
      this.running.delete(name);
    }
  }
}
