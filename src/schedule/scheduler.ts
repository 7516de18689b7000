import { Cron } from 'croner';
import type { Logger } from '../observability/logger.ts';

/** When an entry is due: a cron pattern in a time zone, or once at a time (a snapshot). */
export type Timing =
  | { readonly kind: 'cron'; readonly pattern: string; readonly timezone: string }
  | { readonly kind: 'once'; readonly at: Date };

export interface ScheduleEntry<T> {
  /** `Kind/name`. */
  readonly key: string;
  /** Changes whenever the work or its timing changes; an entry whose hash is the same keeps its timer. */
  readonly hash: string;
  readonly timing: Timing;
  readonly payload: T;
}

interface Scheduled<T> {
  readonly entry: ScheduleEntry<T>;
  readonly cron: Cron | undefined;
  readonly immediate: NodeJS.Immediate | undefined;
}

/** croner timers for a set of entries, kept in step with the entries given to `sync`. */
export class Scheduler<T> {
  readonly #jobs = new Map<string, Scheduled<T>>();
  #known = new Set<string>();
  readonly #onDue: (entry: ScheduleEntry<T>, dueAt: Date) => void;
  readonly #log: Logger;

  constructor(onDue: (entry: ScheduleEntry<T>, dueAt: Date) => void, log: Logger) {
    this.#onDue = onDue;
    this.#log = log;
  }

  get size(): number {
    return this.#jobs.size;
  }

  /** Makes the timers match `entries`: new ones started, changed ones restarted, gone ones stopped. */
  sync(entries: readonly ScheduleEntry<T>[]): { added: number; changed: number; removed: number } {
    const wanted = new Map(entries.map((e) => [e.key, e]));
    const counts = { added: 0, changed: 0, removed: 0 };
    for (const [key, job] of this.#jobs) {
      const next = wanted.get(key);
      if (next !== undefined && next.hash === job.entry.hash) continue;
      this.#cancel(key);
      if (next === undefined) counts.removed++;
    }
    for (const entry of entries) {
      if (this.#jobs.has(entry.key)) continue;
      const existed = this.#known.has(entry.key);
      if (this.#schedule(entry)) counts[existed ? 'changed' : 'added']++;
    }
    this.#known = new Set(wanted.keys());
    return counts;
  }

  nextRun(key: string): Date | null {
    const job = this.#jobs.get(key);
    if (job === undefined) return null;
    if (job.entry.timing.kind === 'once') return job.entry.timing.at;
    return job.cron?.nextRun() ?? null;
  }

  stop(): void {
    for (const key of [...this.#jobs.keys()]) this.#cancel(key);
  }

  #schedule(entry: ScheduleEntry<T>): boolean {
    const due = () => this.#onDue(entry, new Date());
    try {
      if (entry.timing.kind === 'once') {
        // A snapshot whose time passed while nobody ran it is due now.
        if (entry.timing.at.getTime() <= Date.now()) {
          this.#jobs.set(entry.key, { entry, cron: undefined, immediate: setImmediate(due) });
          return true;
        }
        const cron = new Cron(entry.timing.at, { catch: true }, due);
        this.#jobs.set(entry.key, { entry, cron, immediate: undefined });
        return true;
      }
      const cron = new Cron(entry.timing.pattern, { timezone: entry.timing.timezone, catch: true }, due);
      this.#jobs.set(entry.key, { entry, cron, immediate: undefined });
      return true;
    } catch (err) {
      // Validated when applied; a pattern croner still refuses is reported, never fatal to the others.
      this.#log.error(
        { event: 'schedule_invalid', definition: entry.key, err: (err as Error).message },
        `${entry.key} cannot be scheduled: ${(err as Error).message}`,
      );
      return false;
    }
  }

  #cancel(key: string): void {
    const job = this.#jobs.get(key);
    job?.cron?.stop();
    if (job?.immediate !== undefined) clearImmediate(job.immediate);
    this.#jobs.delete(key);
  }
}
