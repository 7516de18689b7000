import { cronNext } from '../schedule/cron/cron-search.ts';
import { readCron } from '../schedule/cron/read-cron.ts';
import { didYouMean } from './suggest.ts';

// Seconds are for command-line flags (`--grace 30s`); the manifests' duration pattern has no `s`.
const UNIT_MS = { w: 604_800_000, d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 } as const;

/** Milliseconds of a duration such as `14d`, `36h` or `1w3d` (the schema or the caller has checked its shape). */
export function parseDuration(text: string): number {
  let total = 0;
  for (const [, n, unit] of text.matchAll(/([0-9]+)([wdhms])/g)) {
    total += Number(n) * UNIT_MS[unit as keyof typeof UNIT_MS];
  }
  return total;
}

const durationCache = new Map<string, string | undefined>();

export function checkDuration(text: string): string | undefined {
  if (!durationCache.has(text)) durationCache.set(text, durationProblem(text));
  return durationCache.get(text);
}

function durationProblem(text: string): string | undefined {
  const ms = parseDuration(text);
  if (ms <= 0) return `duration "${text}" must be longer than zero`;
  if (ms > 100 * 366 * UNIT_MS.d) return `duration "${text}" is longer than 100 years`;
  return undefined;
}

const zoneCache = new Map<string, string | undefined>();

export function checkTimezone(zone: string): string | undefined {
  if (!zoneCache.has(zone)) {
    let problem: string | undefined;
    try {
      new Intl.DateTimeFormat('en', { timeZone: zone });
    } catch {
      const hint = didYouMean(zone, Intl.supportedValuesOf('timeZone'));
      problem = `unknown time zone "${zone}"${hint === '' ? '; use an IANA name such as "UTC" or "Europe/Oslo"' : hint}`;
    }
    if (zoneCache.size >= CACHE_LIMIT) zoneCache.clear();
    zoneCache.set(zone, problem);
  }
  return zoneCache.get(zone);
}

// Bounded: an agent validates every revision for years, and each distinct schedule would stay otherwise.
const cronCache = new Map<string, string | undefined>();
const CACHE_LIMIT = 1024;

/** Why a schedule is unusable: not 5 or 6 cron fields (or a @nickname), unparsable, or never firing. */
export function checkCron(expression: string): string | undefined {
  if (expression === 'auto') return undefined;
  if (!cronCache.has(expression)) {
    if (cronCache.size >= CACHE_LIMIT) cronCache.clear();
    cronCache.set(expression, cronProblem(expression));
  }
  return cronCache.get(expression);
}

function cronProblem(expression: string): string | undefined {
  const fields = expression.trim().split(/\s+/);
  if (!expression.startsWith('@') && fields.length !== 5 && fields.length !== 6) {
    return `schedule "${expression}" must be "auto" or a cron expression of 5 fields (minute hour day-of-month month day-of-week), or 6 with seconds first`;
  }
  const read = readCron(expression);
  if (!read.ok) return `schedule "${expression}" is not a valid cron expression: ${read.reason}`;
  if (cronNext(read.pattern, 'UTC', Date.UTC(2000, 0, 1)) === null)
    return `schedule "${expression}" never runs`;
  return undefined;
}

const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

/** Why a time is not an ISO 8601 date-time with an offset, or undefined. */
export function checkIsoTime(text: string): string | undefined {
  const m = ISO_TIME.exec(text);
  const hint = 'use ISO 8601 with an offset, e.g. "2026-12-01T02:30:00Z" or "2026-12-01T03:30:00+01:00"';
  if (m === null) return `"${text}" is not an ISO 8601 date and time with a UTC offset; ${hint}`;
  const [, y, mo, d, h, mi, s = '0'] = m.map((v) => v ?? '');
  const month = Number(mo);
  const day = Number(d);
  const daysInMonth = new Date(Date.UTC(Number(y), month, 0)).getUTCDate();
  if (
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > daysInMonth ||
    Number(h) > 23 ||
    Number(mi) > 59 ||
    Number(s) > 59
  ) {
    return `"${text}" is not a real date and time; ${hint}`;
  }
  return undefined;
}

/** Why a database name is unusable beyond what the schema's pattern checks (PostgreSQL counts bytes). */
export function checkDatabaseName(name: string): string | undefined {
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > 63) return `database name is ${bytes} bytes; PostgreSQL allows at most 63`;
  return undefined;
}
