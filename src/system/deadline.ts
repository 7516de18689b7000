import { performance } from 'node:perf_hooks';

/** The longest delay setTimeout takes: past it Node fires at once (a TimeoutOverflowWarning), so longer ones re-arm. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export interface Deadline {
  /** Aborts when the time is up, with `reason` as its reason. */
  readonly signal: AbortSignal;
  /** Whether the time ran out (rather than the deadline being cleared). */
  readonly expired: boolean;
  /** Stops the timer: the signal then never aborts. */
  clear(): void;
}

/**
 * A signal that aborts `ms` milliseconds from now, whatever the length (a dump's `timeout: 3d` is longer than one
 * timer can wait). Measured on the monotonic clock, so a wall-clock step does not move it; its timer never
 * holds the process open.
 */
export function deadline(ms: number, reason: () => unknown): Deadline {
  const controller = new AbortController();
  const end = performance.now() + ms;
  let timer: NodeJS.Timeout | undefined;
  let expired = false;
  const arm = (): void => {
    const left = end - performance.now();
    if (left <= 0) {
      expired = true;
      controller.abort(reason());
      return;
    }
    timer = setTimeout(arm, Math.min(Math.ceil(left), MAX_TIMER_MS));
    timer.unref();
  };
  arm();
  return {
    signal: controller.signal,
    get expired() {
      return expired;
    },
    clear: () => clearTimeout(timer),
  };
}

/** A restore's (or restore test's) bound: its reason says which limit it was, e.g. `its timeout of 6h`. */
export function stopAfter(ms: number, limit: string): Deadline {
  return deadline(ms, () => `took longer than ${limit}: stopped`);
}
