import { Cron } from 'croner';
import { PgbackmanError } from '../errors.ts';

/**
 * The croner job every schedule is read with, paused: it only answers questions. croner's defaults
 * apply: day-of-month and day-of-week are ORed when both are set (Vixie cron), and a fixed-time job
 * (one value each for second, minute and hour) in a DST gap runs at the first time after the gap and
 * once on a repeated hour, while other jobs skip the gap and run on both occurrences.
 */
export function scheduleCron(cron: string, timezone: string): Cron {
  return new Cron(cron, { timezone, paused: true });
}

// Answers are pure, and croner costs ~50 µs a question in a time zone: `status` over 20,000 definitions
// asks the same few (each cron's next and previous run at one `now`) thousands of times.
// croner 11 keeps a 10,000-entry year table in each job (~83 KB): only a few hundred jobs are kept, while
// answers (numbers) are cheap to keep by the thousand.
const jobs = new Map<string, Cron>();
const answers = new Map<string, number | null>();
const JOBS_LIMIT = 256;
const ANSWERS_LIMIT = 8192;

function cached<V>(map: Map<string, V>, key: string, compute: () => V): V {
  if (map.has(key)) return map.get(key) as V;
  if (map.size >= (map === (jobs as Map<string, unknown>) ? JOBS_LIMIT : ANSWERS_LIMIT)) map.clear();
  const value = compute();
  map.set(key, value);
  return value;
}

function job(cron: string, timezone: string): Cron {
  return cached(jobs, `${timezone}\0${cron}`, () => scheduleCron(cron, timezone));
}

function answer(kind: string, cron: string, timezone: string, at: Date, ask: (j: Cron) => Date | null) {
  const ms = cached(answers, `${kind}\0${timezone}\0${cron}\0${at.getTime()}`, () => {
    return ask(job(cron, timezone))?.getTime() ?? null;
  });
  return ms === null ? null : new Date(ms);
}

/** The first due time strictly after `after`, or null when the schedule never runs again. */
export function nextRun(cron: string, timezone: string, after: Date): Date | null {
  return answer('next', cron, timezone, after, (j) => j.nextRun(after) ?? null);
}

/** The latest due time at or before `at`, or null. */
export function previousRun(cron: string, timezone: string, at: Date): Date | null {
  return answer('previous', cron, timezone, at, (j) => latestAtOrBefore(j, at));
}

/** The due times in (from, to], oldest first, at most `limit` of them: the runs an agent missed while down. */
export function missedRuns(
  cron: string,
  timezone: string,
  from: Date,
  to: Date,
  limit = 100,
): { times: Date[]; truncated: boolean } {
  const j = job(cron, timezone);
  const times: Date[] = [];
  for (let t = j.nextRun(from); t !== null && t.getTime() <= to.getTime(); t = j.nextRun(t)) {
    if (times.length === limit) return { times, truncated: true };
    times.push(t);
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
    [before, after] = [job(cron, timezone).previousRuns(1, before)[0] ?? null, before];
  if (before === null || after === null)
    throw new PgbackmanError('INVALID_INPUT', `schedule "${cron}" does not run at least twice`);
  return after.getTime() - before.getTime();
}

function latestAtOrBefore(job: Cron, at: Date): Date | null {
  // croner counts a run earlier in the reference's own second as before it.
  return job.previousRuns(1, new Date(at.getTime() + 1))[0] ?? null;
}
