import { missedRuns } from '../schedule/next-runs.ts';
import type { Timing } from '../schedule/scheduler.ts';

/** At most this many missed times are listed on one MISSED row. */
export const MISSED_LIMIT = 100;

/**
 * The times a timing was due in (from, to]: what an agent that was down missed. Snapshots are not missed
 * (one whose time passed runs when the agent starts), so a `once` timing has none.
 */
export function missedTimes(timing: Timing, from: Date, to: Date, limit = MISSED_LIMIT): Date[] {
  if (timing.kind === 'once' || from >= to) return [];
  return missedRuns(timing.pattern, timing.timezone, from, to, limit).times;
}
