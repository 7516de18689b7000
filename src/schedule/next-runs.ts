import { PgbackmanError } from '../errors.ts';
import { cronNext, cronPrevious } from './cron/cron-search.ts';
import { type CronPattern, readCron } from './cron/read-cron.ts';

/**
 * Due times of a schedule, read with our own cron reader (src/schedule/cron/), which answers as croner does
 * (day-of-month and day-of-week ORed when both are set, as Vixie cron; a fixed-time job in a DST gap runs
 * when the clock jumps and once on a repeated hour, other jobs skip the gap and run on both passes).
 */

// Patterns are ~400 bytes and read in microseconds: the common few are kept, not one per definition (20,000
// distinct ones would hold 8 MB). Answers are kept for `status`, which asks the same few (each cron's next
// and previous run at one `now`) thousands of times.
const patterns = new Map<string, CronPattern>();
const answers = new Map<string, number | null>();
const PATTERNS_LIMIT = 1024;
const ANSWERS_LIMIT = 8192;

/** The pattern of a schedule; one refused by the reader is an error (validation refuses it first). */
export function cronPattern(cron: string): CronPattern {
  let p = patterns.get(cron);
  if (p === undefined) {
    const read = readCron(cron);
    if (!read.ok)
      throw new PgbackmanError(
        'INVALID_INPUT',
        `schedule "${cron}" is not a valid cron expression: ${read.reason}`,
      );
    if (patterns.size >= PATTERNS_LIMIT) patterns.clear();
    p = read.pattern;
    patterns.set(cron, p);
  }
  return p;
}

function answer(kind: 'next' | 'previous', cron: string, timezone: string, at: Date): Date | null {
  const key = `${kind}\0${timezone}\0${cron}\0${at.getTime()}`;
  let ms = answers.get(key);
  if (ms === undefined) {
    const p = cronPattern(cron);
    ms = kind === 'next' ? cronNext(p, timezone, at.getTime()) : cronPrevious(p, timezone, at.getTime());
    if (answers.size >= ANSWERS_LIMIT) answers.clear();
    answers.set(key, ms);
  }
  return ms === null ? null : new Date(ms);
}

/** The first due time strictly after `after`, or null when the schedule never runs again. */
export function nextRun(cron: string, timezone: string, after: Date): Date | null {
  return answer('next', cron, timezone, after);
}

/** The same as nextRun, without keeping the answer: the scheduler asks each entry once per run, never twice. */
export function nextDue(cron: string, timezone: string, after: number): number | null {
  return cronNext(cronPattern(cron), timezone, after);
}

/** The latest due time at or before `at`, or null. */
export function previousRun(cron: string, timezone: string, at: Date): Date | null {
  return answer('previous', cron, timezone, at);
}

/** The due times in (from, to], oldest first, at most `limit` of them: the runs an agent missed while down. */
export function missedRuns(
  cron: string,
  timezone: string,
  from: Date,
  to: Date,
  limit = 100,
): { times: Date[]; truncated: boolean } {
  const p = cronPattern(cron);
  const times: Date[] = [];
  for (
    let t = cronNext(p, timezone, from.getTime());
    t !== null && t <= to.getTime();
    t = cronNext(p, timezone, t)
  ) {
    if (times.length === limit) return { times, truncated: true };
    times.push(new Date(t));
  }
  return { times, truncated: false };
}

/**
 * Milliseconds between the due time at or before `at` and the one after it (a DST day makes a daily
 * job's interval 23 or 25 hours; `0 3 * * 1-5` on a Saturday is three days).
 */
export function scheduleInterval(cron: string, timezone: string, at: Date): number {
  let before = previousRun(cron, timezone, at);
  let after = nextRun(cron, timezone, at);
  // At either end of a schedule, the two runs on the side that has them.
  if (before === null && after !== null) [before, after] = [after, nextRun(cron, timezone, after)];
  else if (after === null && before !== null)
    [before, after] = [previousRun(cron, timezone, new Date(before.getTime() - 1000)), before];
  if (before === null || after === null)
    throw new PgbackmanError('INVALID_INPUT', `schedule "${cron}" does not run at least twice`);
  return after.getTime() - before.getTime();
}
