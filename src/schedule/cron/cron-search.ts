import type { CronPattern } from './read-cron.ts';
import { nextWall, previousWall } from './wall-clock.ts';
import { firstChange, lastChange, offsetAt } from './zone-offset.ts';

/**
 * A pattern's due times in a time zone, with croner's DST rules: a job is due at every instant whose wall
 * clock matches (both passes of a repeated hour, none in a skipped one), except a fixed-time job (one
 * second, minute and hour), which is due once a day: at the first pass of a repeated time, and at the
 * end of the gap when its time is skipped.
 */

const DAY = 86_400_000;
/** A search that crosses more offset changes than this has lost its way. */
const MAX_STEPS = 2_000;

/** The first due time strictly after `after` (ms), or null when the pattern never runs again. */
export function cronNext(p: CronPattern, zone: string, after: number): number | null {
  const start = Math.floor(after / 1000) * 1000 + 1000;
  return p.fixedTime ? fixedNext(p, zone, start) : everyNext(p, zone, start);
}

/** The last due time at or before `at` (ms), or null. */
export function cronPrevious(p: CronPattern, zone: string, at: number): number | null {
  const end = Math.floor(at / 1000) * 1000;
  return p.fixedTime ? fixedPrevious(p, zone, end) : everyPrevious(p, zone, end);
}

// Within one offset, due times are the matching wall times minus it; at a change, search on from there.
function everyNext(p: CronPattern, zone: string, start: number): number | null {
  let t = start;
  for (let i = 0; i < MAX_STEPS; i++) {
    const offset = offsetAt(zone, t);
    const wall = nextWall(p, t + offset);
    if (wall === null) return null;
    const change = firstChange(zone, t, wall - offset);
    if (change === null) return wall - offset;
    t = change;
  }
  return null;
}

function everyPrevious(p: CronPattern, zone: string, end: number): number | null {
  let t = end;
  for (let i = 0; i < MAX_STEPS; i++) {
    const offset = offsetAt(zone, t);
    const wall = previousWall(p, t + offset);
    if (wall === null) return null;
    const change = lastChange(zone, wall - offset, t);
    if (change === null) return wall - offset;
    t = change - 1000;
  }
  return null;
}

/** The instant a fixed-time job runs for the wall time `wall`, or null when its day has none. */
function fixedInstant(zone: string, wall: number): number | null {
  const [before, after] = [offsetAt(zone, wall - DAY), offsetAt(zone, wall + DAY)];
  const candidates = [wall - before, wall - after].filter(
    (t, i) => offsetAt(zone, t) === (i === 0 ? before : after),
  );
  if (candidates.length > 0) return Math.min(...candidates);
  // Skipped by a change forward: due when the clock jumps, if that is still the same day.
  const change = firstChange(zone, wall - Math.max(before, after) - 1000, wall - Math.min(before, after));
  if (change === null) return null;
  const sameDay = Math.floor((change + offsetAt(zone, change)) / DAY) === Math.floor(wall / DAY);
  return sameDay ? change : null;
}

function fixedNext(p: CronPattern, zone: string, start: number): number | null {
  let from = Math.floor((start + offsetAt(zone, start)) / DAY) * DAY - DAY;
  for (let i = 0; i < MAX_STEPS; i++) {
    const wall = nextWall(p, from);
    if (wall === null) return null;
    const t = fixedInstant(zone, wall);
    if (t !== null && t >= start) return t;
    from = wall + 1000;
  }
  return null;
}

function fixedPrevious(p: CronPattern, zone: string, end: number): number | null {
  let from = Math.floor((end + offsetAt(zone, end)) / DAY) * DAY + 2 * DAY - 1000;
  for (let i = 0; i < MAX_STEPS; i++) {
    const wall = previousWall(p, from);
    if (wall === null) return null;
    const t = fixedInstant(zone, wall);
    if (t !== null && t <= end) return t;
    from = wall - 1000;
  }
  return null;
}
