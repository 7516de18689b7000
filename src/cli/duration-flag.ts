import { PgbackmanError } from '../errors.ts';
import { parseDuration } from '../manifest/check-values.ts';

/** Whole numbers with units w, d, h, m or s: `10m`, `30s`, `1h`, `1d`, `1h30m`. */
export const DURATION_FLAG = /^([0-9]+[wdhms])+$/;

/** A command-line duration in milliseconds, or a USAGE error naming the flag. */
export function durationFlag(text: string, flag: string): number {
  if (!DURATION_FLAG.test(text))
    throw new PgbackmanError('USAGE', `${flag}: "${text}" is not a duration such as 10m, 30s, 1h or 1d`);
  return parseDuration(text);
}

/** `--since 7d` (a duration back from now) or `--since 2026-11-01T00:00:00Z`. */
export function sinceFlag(text: string, now = Date.now()): Date {
  if (DURATION_FLAG.test(text)) return new Date(now - parseDuration(text));
  const t = Date.parse(text);
  if (Number.isNaN(t))
    throw new PgbackmanError(
      'USAGE',
      `--since: "${text}" is neither a duration (7d, 36h) nor an ISO 8601 time`,
    );
  return new Date(t);
}
