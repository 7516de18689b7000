import { PgbackmanError } from '../errors.ts';

/**
 * A cron day-of-week field moved one day later, for a night that starts on those days and runs after
 * midnight: `1-5` → `2-6`, `5,6` → `0,6`, `*` stays `*`. Sunday is 0 (7 is read as 0).
 */
export function shiftDaysOfWeek(field: string): string {
  if (field === '*') return '*';
  const days = new Set<number>();
  for (const item of field.split(',')) {
    for (const day of expand(item, field)) days.add((day + 1) % 7);
  }
  return days.size === 7 ? '*' : render([...days].sort((a, b) => a - b));
}

function expand(item: string, field: string): number[] {
  const [range = '', stepText, ...rest] = item.split('/');
  const step = stepText === undefined ? 1 : Number(stepText);
  const bounds =
    range === '*' ? [0, 6] : range.split('-').map((n) => (/^[0-9]+$/.test(n) ? Number(n) : Number.NaN));
  const lo = bounds[0] ?? Number.NaN;
  const hi = bounds.length === 2 ? (bounds[1] ?? Number.NaN) : lo;
  // The window's days were checked as a cron when applied; anything else here is a bug upstream.
  const valid = [lo, hi, step].every(Number.isInteger) && lo >= 0 && hi <= 7 && lo <= hi && step > 0;
  if (
    !valid ||
    rest.length > 0 ||
    bounds.length > 2 ||
    (stepText !== undefined && range !== '*' && bounds.length !== 2)
  )
    throw new PgbackmanError(
      'INVALID_INPUT',
      `backupWindow.daysOfWeek "${field}" is not a cron day-of-week field`,
    );
  const days: number[] = [];
  for (let d = lo; d <= hi; d += step) days.push(d % 7);
  return days;
}

/** Sorted days as a cron list, runs of three or more as ranges: [0, 1, 2, 3, 5] → `0-3,5`. */
function render(days: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < days.length; ) {
    let j = i;
    while (j + 1 < days.length && days[j + 1] === (days[j] ?? 0) + 1) j++;
    parts.push(j - i >= 2 ? `${days[i]}-${days[j]}` : days.slice(i, j + 1).join(','));
    i = j + 1;
  }
  return parts.join(',');
}
