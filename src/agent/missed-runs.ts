import { Cron } from 'croner';
import type { Timing } from '../schedule/scheduler.ts';

/** At most this many missed times are listed on one MISSED row; the count says how many more. */
export const MISSED_LIMIT = 100;

/**
 * The times a cron timing was due in (from, to]: what an agent that was down missed. Snapshots are not
 * missed (they run when the agent starts), so a `once` timing has none.
 */
export function missedTimes(timing: Timing, from: Date, to: Date, limit = MISSED_LIMIT): Date[] {
  if (timing.kind === 'once' || from >= to) return [];
  const cron = new Cron(timing.pattern, { timezone: timing.timezone, paused: true });
  const times: Date[] = [];
  for (let at = cron.nextRun(from); at !== null && at <= to && times.length < limit; at = cron.nextRun(at))
    times.push(at);
  cron.stop();
  return times;
}
