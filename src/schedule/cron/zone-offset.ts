/**
 * A time zone's offset from UTC at an instant (wall = instant + offset), from Intl and cached per zone
 * and hour: an hour's offset is one number, or the exact second it changes. Assumes at most one change
 * per hour and per six days, which every zone in the tz database keeps.
 */

const HOUR = 3_600_000;
const STEP = 6 * 86_400_000;
const CACHE_LIMIT = 100_000;

type HourOffset = number | { readonly changeAt: number; readonly before: number; readonly after: number };

const formats = new Map<string, Intl.DateTimeFormat>();
const hours = new Map<string, Map<number, HourOffset>>();
const UTC_NAMES = new Set([
  'UTC',
  'Etc/UTC',
  'Etc/GMT',
  'GMT',
  'Etc/Universal',
  'Etc/Zulu',
  'Universal',
  'Zulu',
]);

function exactOffset(zone: string, at: number): number {
  let format = formats.get(zone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formats.set(zone, format);
  }
  const f: Record<string, number> = {};
  for (const part of format.formatToParts(at)) if (part.type !== 'literal') f[part.type] = Number(part.value);
  const wall = Date.UTC(f.year as number, (f.month as number) - 1, f.day, f.hour, f.minute, f.second);
  return wall - Math.floor(at / 1000) * 1000;
}

function hourOffset(zone: string, hour: number): HourOffset {
  let cache = hours.get(zone);
  if (cache === undefined) {
    cache = new Map();
    hours.set(zone, cache);
  }
  const known = cache.get(hour);
  if (known !== undefined) return known;
  if (cache.size >= CACHE_LIMIT) cache.clear();
  const start = hour * HOUR;
  const before = exactOffset(zone, start);
  const after = exactOffset(zone, start + HOUR - 1000);
  let value: HourOffset = before;
  if (before !== after) {
    // The first second with the new offset.
    let [lo, hi] = [start, start + HOUR - 1000];
    while (hi - lo > 1000) {
      const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
      if (exactOffset(zone, mid) === before) lo = mid;
      else hi = mid;
    }
    value = { changeAt: hi, before, after };
  }
  cache.set(hour, value);
  return value;
}

/** Milliseconds to add to an instant to read its wall clock in `zone`. */
export function offsetAt(zone: string, at: number): number {
  if (UTC_NAMES.has(zone)) return 0;
  const h = hourOffset(zone, Math.floor(at / HOUR));
  if (typeof h === 'number') return h;
  return at < h.changeAt ? h.before : h.after;
}

/** The first instant in (from, to] whose offset differs from the one at `from`, or null. */
export function firstChange(zone: string, from: number, to: number): number | null {
  if (UTC_NAMES.has(zone) || to <= from) return null;
  const at = offsetAt(zone, from);
  // Coarse steps find the first step holding a change; then hour by hour within it.
  let lo = from;
  for (;;) {
    const hi = Math.min(lo + STEP, to);
    if (offsetAt(zone, hi) !== at) return changeWithin(zone, lo, hi, at);
    if (hi === to) return null;
    lo = hi;
  }
}

/** The last instant in (from, to] where the offset changed (the start of `to`'s offset), or null. */
export function lastChange(zone: string, from: number, to: number): number | null {
  if (UTC_NAMES.has(zone) || to <= from) return null;
  const at = offsetAt(zone, to);
  let hi = to;
  for (;;) {
    const lo = Math.max(hi - STEP, from);
    if (offsetAt(zone, lo) !== at) return changeWithin(zone, lo, hi, offsetAt(zone, lo));
    if (lo === from) return null;
    hi = lo;
  }
}

/** The change in (lo, hi] away from offset `at` (one change between them): the first hour that ends changed. */
function changeWithin(zone: string, lo: number, hi: number, at: number): number {
  const changedBy = (hour: number) =>
    offsetAt(zone, Math.min(Math.max(hour * HOUR + HOUR - 1000, lo), hi)) !== at;
  let [a, b] = [Math.floor(lo / HOUR), Math.floor(hi / HOUR)];
  if (changedBy(a)) b = a;
  while (b - a > 1) {
    const mid = Math.floor((a + b) / 2);
    if (changedBy(mid)) b = mid;
    else a = mid;
  }
  const h = hourOffset(zone, b);
  const change = typeof h === 'number' ? b * HOUR : h.changeAt;
  return Math.min(Math.max(change, lo + 1000), hi);
}
