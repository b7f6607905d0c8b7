export interface Job<T = unknown> {
  id: string;
  type: string;
  payload: T;
  attempts: number;
  enqueuedAt: number;
}

export type JobHandler = (job: Job) => Promise<void>;

type Logger = Pick<Console, "info" | "warn" | "error">;

/**
 * In-process FIFO work queue. Jobs run one at a time in enqueue order;
 * failed jobs go to the back of the queue until maxAttempts is reached.
 */
export class JobQueue {
  private readonly items: Job[] = [];
  private readonly handlers = new Map<string, JobHandler>();
  private draining = false;
  private seq = 0;

  constructor(
    private readonly maxAttempts = 3,
    private readonly log: Logger = console,
  ) {}

  on(type: string, handler: JobHandler): void {
    this.handlers.set(type, handler);
  }

  enqueue<T>(type: string, payload: T): string {
    const job: Job<T> = {
      id: `${Date.now().toString(36)}-${(this.seq++).toString(36)}`,
      type,
      payload,
      attempts: 0,
      enqueuedAt: Date.now(),
    };
    this.items.push(job);
    void this.drain();
    return job.id;
  }

  get size(): number {
    return this.items.length;
  }

  private async drain(): Promise<void> {
    // planted: refute id=FP3 reason="draining is tested and set in one synchronous step before the first await, so any drain() started by a later enqueue returns immediately while a loop is active, and the active loop picks up the newly pushed job."
    if (this.draining) return;
    this.draining = true;
    try {
      // planted: finding id=FP3 confidence=0.55 lines=55-58 state=items bug="Every enqueue call starts drain(), so two enqueues in quick succession can run two loops that interleave at the await on runOne and shift jobs from items concurrently, breaking one-at-a-time FIFO processing." fix="Ensure only a single drain loop can be active at a time."
      while (this.items.length > 0) {
        const job = this.items.shift()!;
        await this.runOne(job);
      }
    } finally {
      this.draining = false;
    }
  }

  private async runOne(job: Job): Promise<void> {
    const handler = this.handlers.get(job.type);
    if (!handler) {
      this.log.warn(`no handler for job type ${job.type}, dropping ${job.id}`);
      return;
    }
    job.attempts++;
    try {
      await handler(job);
    } catch (err) {
      if (job.attempts < this.maxAttempts) {
        this.log.warn(`job ${job.id} failed (attempt ${job.attempts}), requeueing`, err);
        this.items.push(job);
      } else {
        this.log.error(`job ${job.id} failed ${job.attempts} times, giving up`, err);
      }
    }
  }
}
