/** A piece of work the queue starts: which definition (never two at once) and which node it loads. */
export interface QueueItem<T> {
  readonly key: string;
  readonly node: string;
  readonly payload: T;
}

export interface QueueLimits {
  /** The server's maxConcurrentDumps. */
  readonly server: number;
  /** The node's maxConcurrentDumps. */
  readonly node: (name: string) => number;
}

export type Offered = 'queued' | 'already-queued' | 'already-running' | 'stopped';

/**
 * Dumps wait here in arrival order and start as soon as both their server's and their node's limits allow
 * (a busy node does not hold up work for others); a definition already queued or running is not added twice.
 */
export class DumpQueue<T> {
  readonly #waiting: QueueItem<T>[] = [];
  readonly #running = new Map<string, QueueItem<T>>();
  #limits: QueueLimits;
  #stopped = false;
  #idle: (() => void)[] = [];
  readonly #start: (item: QueueItem<T>) => Promise<void>;

  constructor(limits: QueueLimits, start: (item: QueueItem<T>) => Promise<void>) {
    this.#limits = limits;
    this.#start = start;
  }

  get depth(): number {
    return this.#waiting.length;
  }

  get running(): number {
    return this.#running.size;
  }

  isRunning(key: string): boolean {
    return this.#running.has(key);
  }

  setLimits(limits: QueueLimits): void {
    this.#limits = limits;
    this.#pump();
  }

  offer(item: QueueItem<T>): Offered {
    if (this.#stopped) return 'stopped';
    if (this.#running.has(item.key)) return 'already-running';
    if (this.#waiting.some((w) => w.key === item.key)) return 'already-queued';
    this.#waiting.push(item);
    this.#pump();
    return 'queued';
  }

  /** Starts nothing more; what waits is dropped and returned (the caller says so). */
  stop(): QueueItem<T>[] {
    this.#stopped = true;
    return this.#waiting.splice(0);
  }

  /** Resolves when nothing is running. */
  idle(): Promise<void> {
    if (this.#running.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #pump(): void {
    if (this.#stopped) return;
    for (let i = 0; i < this.#waiting.length && this.#running.size < this.#limits.server; ) {
      const item = this.#waiting[i] as QueueItem<T>;
      if (this.#runningOn(item.node) >= this.#limits.node(item.node) || this.#running.has(item.key)) {
        i++;
        continue;
      }
      this.#waiting.splice(i, 1);
      this.#running.set(item.key, item);
      // The worker reports its own failures; the queue only needs to know it ended.
      void this.#start(item)
        .catch(() => undefined)
        .finally(() => this.#finished(item.key));
    }
  }

  #finished(key: string): void {
    this.#running.delete(key);
    if (this.#running.size === 0) for (const resolve of this.#idle.splice(0)) resolve();
    this.#pump();
  }

  #runningOn(node: string): number {
    let n = 0;
    for (const item of this.#running.values()) if (item.node === node) n++;
    return n;
  }
}
