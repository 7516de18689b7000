import { type CronPattern, FIELD } from './read-cron.ts';

/**
 * Searches of a cron pattern on the wall clock, with no time zone: a wall time is written as the
 * milliseconds of the same fields in UTC. Pure arithmetic, field by field (a daily job is found in a
 * handful of steps); zones and DST are cron-search.ts's business.
 */

/** How far a search looks before it says "never" (croner's bound too). */
const YEARS = 400;
const NTH = [1, 2, 4, 8, 16];
const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export function daysInMonth(year: number, month: number): number {
  if (month !== 1) return MONTH_DAYS[month] as number;
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
}

/** 0 = Sunday. */
function weekday(year: number, month: number, day: number): number {
  return new Date(Date.UTC(year, month, day)).getUTCDay();
}

/** The nearest weekday (Monday-Friday) to `day` within its month, or -1 when the month is shorter. */
function nearestWeekday(year: number, month: number, day: number): number {
  const last = daysInMonth(year, month);
  if (day > last) return -1;
  const wd = weekday(year, month, day);
  if (wd === 0) return day === last ? day - 2 : day + 1;
  if (wd === 6) return day === 1 ? day + 2 : day - 1;
  return day;
}

/** Whether the pattern's day-of-month and day-of-week rules take this date (month 0-11). */
export function matchesDay(p: CronPattern, year: number, month: number, day: number): boolean {
  const b = p.bits;
  const last = daysInMonth(year, month);
  let ok = b[FIELD.day.at + day - 1] === 1;
  if (!ok && p.nearestWeekday)
    for (let n = 1; n <= 31; n++)
      if (b[FIELD.nearest.at + n - 1] && nearestWeekday(year, month, n) === day) {
        ok = true;
        break;
      }
  if (p.lastWeekday) {
    const wd = weekday(year, month, last);
    if (day === (wd === 0 ? last - 2 : wd === 6 ? last - 1 : last)) ok = true;
  }
  if (p.lastDayOfMonth && day === last) ok = true;
  if (p.anyDayOfWeek) return ok;
  const mark = b[FIELD.weekday.at + weekday(year, month, day)] as number;
  const nth = NTH[Math.floor((day - 1) / 7)] as number;
  const onWeekday = mark !== 0 && ((mark & nth) !== 0 || ((mark & 32) !== 0 && day + 7 > last));
  // Vixie cron: when both day fields are restricted, either may match; `+` asks for both.
  return p.dayAndWeekday || p.anyDayOfMonth ? ok && onWeekday : ok || onWeekday;
}

/** The first slot at or after `from` (forward) or at or before it (backward) set in a field, or -1. */
function seek(b: Uint8Array, field: keyof typeof FIELD, from: number, forward: boolean): number {
  const { at, size } = FIELD[field];
  if (forward) {
    for (let i = Math.max(from, 0); i < size; i++) if (b[at + i]) return i;
  } else for (let i = Math.min(from, size - 1); i >= 0; i--) if (b[at + i]) return i;
  return -1;
}

function fields(at: number): [number, number, number, number, number, number] {
  const t = new Date(at);
  return [
    t.getUTCFullYear(),
    t.getUTCMonth(),
    t.getUTCDate(),
    t.getUTCHours(),
    t.getUTCMinutes(),
    t.getUTCSeconds(),
  ];
}

/** The earliest matching wall time at or after `from` (whole seconds), or null within 400 years. */
export function nextWall(p: CronPattern, from: number): number | null {
  let [y, mo, d, h, mi, s] = fields(from);
  const limit = y + YEARS;
  const b = p.bits;
  for (;;) {
    if (y > limit) return null;
    const m = seek(b, 'month', mo, true);
    if (m !== mo) {
      [mo, d, h, mi, s] = m < 0 ? [0, 1, 0, 0, 0] : [m, 1, 0, 0, 0];
      if (m < 0) y++;
      continue;
    }
    if (d > daysInMonth(y, mo)) {
      [mo, d, h, mi, s] = [mo + 1, 1, 0, 0, 0];
      if (mo > 11) [y, mo] = [y + 1, 0];
      continue;
    }
    if (!matchesDay(p, y, mo, d)) {
      [d, h, mi, s] = [d + 1, 0, 0, 0];
      continue;
    }
    const hh = seek(b, 'hour', h, true);
    if (hh < 0) {
      [d, h, mi, s] = [d + 1, 0, 0, 0];
      continue;
    }
    if (hh !== h) [h, mi, s] = [hh, 0, 0];
    const mm = seek(b, 'minute', mi, true);
    if (mm < 0) {
      [h, mi, s] = [h + 1, 0, 0];
      continue;
    }
    if (mm !== mi) [mi, s] = [mm, 0];
    const ss = seek(b, 'second', s, true);
    if (ss < 0) {
      [mi, s] = [mi + 1, 0];
      continue;
    }
    return Date.UTC(y, mo, d, h, mi, ss);
  }
}

/** The latest matching wall time at or before `from` (whole seconds), or null within 400 years. */
export function previousWall(p: CronPattern, from: number): number | null {
  let [y, mo, d, h, mi, s] = fields(from);
  const limit = y - YEARS;
  const b = p.bits;
  for (;;) {
    if (y < limit) return null;
    const m = seek(b, 'month', mo, false);
    if (m !== mo) {
      [mo, d, h, mi, s] = m < 0 ? [11, 31, 23, 59, 59] : [m, 31, 23, 59, 59];
      if (m < 0) y--;
      continue;
    }
    if (d > daysInMonth(y, mo)) d = daysInMonth(y, mo);
    if (d < 1) {
      [mo, d, h, mi, s] = [mo - 1, 31, 23, 59, 59];
      if (mo < 0) [y, mo] = [y - 1, 11];
      continue;
    }
    if (!matchesDay(p, y, mo, d)) {
      [d, h, mi, s] = [d - 1, 23, 59, 59];
      continue;
    }
    const hh = seek(b, 'hour', h, false);
    if (hh < 0) {
      [d, h, mi, s] = [d - 1, 23, 59, 59];
      continue;
    }
    if (hh !== h) [h, mi, s] = [hh, 59, 59];
    const mm = seek(b, 'minute', mi, false);
    if (mm < 0) {
      [h, mi, s] = [h - 1, 59, 59];
      continue;
    }
    if (mm !== mi) [mi, s] = [mm, 59];
    const ss = seek(b, 'second', s, false);
    if (ss < 0) {
      [mi, s] = [mi - 1, 59];
      continue;
    }
    return Date.UTC(y, mo, d, h, mi, ss);
  }
}
