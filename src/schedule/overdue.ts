import { assertNever } from '../errors.ts';
import { nextRun, previousRun, scheduleInterval } from './next-runs.ts';

export type HealthState = 'OK' | 'OVERDUE' | 'NEVER' | 'SUSPENDED' | 'FAILING';

export interface Health {
  readonly state: HealthState;
  /** The next due time after now; null when suspended or when the schedule has no more runs. */
  readonly nextRun: Date | null;
  /** When the definition becomes OVERDUE without a new success; null when suspended. */
  readonly dueBy: Date | null;
}

export interface HealthInput {
  /** When the newest successful run finished. */
  readonly lastSuccessAt: Date | null;
  /** The newest failed run, when it is newer than the last success (older failures are history). */
  readonly lastFailure: { readonly at: Date } | null;
  readonly cron: string;
  readonly timezone: string;
  readonly now: Date;
  /** Milliseconds a due run may take to succeed before it counts as late. */
  readonly grace: number;
  readonly createdAt: Date;
  readonly suspended: boolean;
}

export const DEFAULT_GRACE_MS = 10 * 60_000;

/**
 * A backup definition's health. After a success, the next due time plus grace is the deadline for the
 * next one (each due time answered within grace); with no success yet, one whole interval from creation
 * plus grace, so a new definition is NEVER, not OVERDUE, until it has had a chance to run.
 * Order: SUSPENDED, then FAILING (a failure newer than the last success), OVERDUE, NEVER, OK.
 */
export function definitionHealth(input: HealthInput): Health {
  const { lastSuccessAt, now, cron, timezone } = input;
  if (input.suspended) return { state: 'SUSPENDED', nextRun: null, dueBy: null };
  const dueFrom =
    lastSuccessAt === null
      ? new Date(input.createdAt.getTime() + scheduleInterval(cron, timezone, input.createdAt))
      : nextDueAfter(cron, timezone, lastSuccessAt, now);
  const dueBy = dueFrom === null ? null : new Date(dueFrom.getTime() + input.grace);
  const state = decide(input, dueBy);
  return { state, nextRun: nextRun(cron, timezone, now), dueBy };
}

/**
 * The first due time after a success. When the success answered the latest due time (no due time lies
 * between it and now) that is the next run after now, which every definition on the same cron shares.
 */
function nextDueAfter(cron: string, timezone: string, success: Date, now: Date): Date | null {
  const previous = previousRun(cron, timezone, now);
  const answered = previous === null || previous.getTime() <= success.getTime();
  return answered && success.getTime() <= now.getTime()
    ? nextRun(cron, timezone, now)
    : nextRun(cron, timezone, success);
}

export interface SnapshotHealthInput {
  readonly at: Date;
  readonly lastSuccessAt: Date | null;
  readonly lastFailure: { readonly at: Date } | null;
  readonly now: Date;
  readonly grace: number;
  readonly suspended: boolean;
}

/** A one-time snapshot's health: due at `at` plus grace; NEVER until then. */
export function snapshotHealth(input: SnapshotHealthInput): Health {
  if (input.suspended) return { state: 'SUSPENDED', nextRun: null, dueBy: null };
  const taken = input.lastSuccessAt !== null;
  const dueBy = taken ? null : new Date(input.at.getTime() + input.grace);
  const pending = !taken && input.at.getTime() > input.now.getTime();
  return { state: decide(input, dueBy), nextRun: pending ? input.at : null, dueBy };
}

function decide(
  input: Pick<HealthInput, 'lastSuccessAt' | 'lastFailure' | 'now'>,
  dueBy: Date | null,
): Exclude<HealthState, 'SUSPENDED'> {
  const { lastSuccessAt, lastFailure, now } = input;
  if (lastFailure !== null && (lastSuccessAt === null || lastFailure.at.getTime() > lastSuccessAt.getTime()))
    return 'FAILING';
  if (dueBy !== null && now.getTime() > dueBy.getTime()) return 'OVERDUE';
  return lastSuccessAt === null ? 'NEVER' : 'OK';
}

/** Whether a state should fail `pgbackman status` (exit 1). */
export function isUnhealthy(state: HealthState): boolean {
  switch (state) {
    case 'OVERDUE':
    case 'FAILING':
      return true;
    case 'OK':
    case 'NEVER':
    case 'SUSPENDED':
      return false;
    default:
      return assertNever(state);
  }
}
