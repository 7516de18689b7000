import { messageOf } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import { DueQueue } from './due-queue.ts';
import { nextDue } from './next-runs.ts';

/** When an entry is due: a cron pattern in a time zone, or once at a time (a snapshot). */
export type Timing =
  | { readonly kind: 'cron'; readonly pattern: string; readonly timezone: string }
  | { readonly kind: 'once'; readonly at: Date };

export interface ScheduleEntry<T> {
  /** `Kind/name`. */
  readonly key: string;
  /** Changes whenever the work or its timing changes; an entry whose hash is the same keeps its due time. */
  readonly hash: string;
  readonly timing: Timing;
  readonly payload: T;
}

// A timer is never set further ahead than this: a clock that jumps (a suspended VM, NTP) is caught up soon.
const MAX_SLEEP_MS = 30_000;

/**
 * One timer for every entry: the due times sit in a heap and the timer is set for the earliest. A cron
 * entry's next time is asked of the cron reader only when it is scheduled or has just fired, so 20,000 definitions
 * cost 20,000 numbers, not 20,000 live timers.
 */
export class Scheduler<T> {
  readonly #entries = new Map<string, { entry: ScheduleEntry<T>; dueAt: number | null }>();
  readonly #queue = new DueQueue();
  readonly #onDue: (entry: ScheduleEntry<T>, dueAt: Date) => void;
  readonly #log: Logger;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Number.POSITIVE_INFINITY;
  #stopped = false;

  constructor(onDue: (entry: ScheduleEntry<T>, dueAt: Date) => void, log: Logger) {
    this.#onDue = onDue;
    this.#log = log;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Makes the schedule match `entries`: new ones added, changed ones re-timed, gone ones dropped. */
  sync(entries: readonly ScheduleEntry<T>[]): { added: number; changed: number; removed: number } {
    this.#stopped = false;
    const counts = { added: 0, changed: 0, removed: 0 };
    const wanted = new Set<string>();
    const now = Date.now();
    for (const entry of entries) {
      wanted.add(entry.key);
      const had = this.#entries.get(entry.key);
      if (had !== undefined && had.entry.hash === entry.hash) {
        had.entry = entry; // the same work and timing; what it carries besides (its revision) may be newer
        continue;
      }
      const dueAt = this.#firstDue(entry, now);
      this.#entries.set(entry.key, { entry, dueAt });
      if (dueAt !== null) this.#queue.push(entry.key, dueAt);
      counts[had === undefined ? 'added' : 'changed']++;
    }
    for (const key of this.#entries.keys())
      if (!wanted.has(key)) {
        this.#entries.delete(key);
        counts.removed++;
      }
    this.#arm();
    return counts;
  }

  nextRun(key: string): Date | null {
    const dueAt = this.#entries.get(key)?.dueAt;
    return dueAt === undefined || dueAt === null ? null : new Date(dueAt);
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
  }

  #firstDue(entry: ScheduleEntry<T>, now: number): number | null {
    // A snapshot whose time passed while nobody ran it is due now.
    if (entry.timing.kind === 'once') return Math.max(entry.timing.at.getTime(), now);
    return this.#nextCron(entry, now);
  }

  #nextCron(entry: ScheduleEntry<T>, after: number): number | null {
    if (entry.timing.kind !== 'cron') return null;
    try {
      return nextDue(entry.timing.pattern, entry.timing.timezone, after);
    } catch (err) {
      // Validated when applied; a pattern the reader still refuses is reported, never fatal to the others.
      this.#log.error(
        { event: 'schedule_invalid', definition: entry.key, err: messageOf(err) },
        `${entry.key} cannot be scheduled: ${messageOf(err)}`,
      );
      return null;
    }
  }

  #arm(): void {
    if (this.#stopped) return;
    const at = this.#earliest();
    if (at === undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#timerAt = Number.POSITIVE_INFINITY;
      return;
    }
    if (this.#timer !== undefined && this.#timerAt <= at) return;
    clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => this.#fire(), Math.min(Math.max(at - Date.now(), 0), MAX_SLEEP_MS));
  }

  /** The earliest due time of a live entry; stale heap items (re-timed or removed entries) are dropped. */
  #earliest(): number | undefined {
    for (;;) {
      const top = this.#queue.peek();
      if (top === undefined) return undefined;
      if (this.#entries.get(top.key)?.dueAt === top.at) return top.at;
      this.#queue.pop();
    }
  }

  #fire(): void {
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    const now = Date.now();
    for (let at = this.#earliest(); at !== undefined && at <= now && !this.#stopped; at = this.#earliest()) {
      const { key } = this.#queue.pop() as { key: string };
      const item = this.#entries.get(key);
      if (item === undefined) continue;
      const next = item.entry.timing.kind === 'once' ? null : this.#nextCron(item.entry, Math.max(at, now));
      item.dueAt = next;
      // A fired snapshot stays known (due never again) until a sync leaves it out: the same entry is not re-armed.
      if (next !== null) this.#queue.push(key, next);
      this.#onDue(item.entry, new Date(at));
    }
    this.#arm();
  }
}
