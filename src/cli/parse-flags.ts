import { PgbackmanError } from '../errors.ts';

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** A command-line duration: `90s`, `1m`, `1h30m`, `2d` (seconds too, unlike manifest periods). */
export function parseFlagDuration(value: string, flag: string): number {
  if (!/^([0-9]+[smhd])+$/.test(value))
    throw new PgbackmanError('USAGE', `${flag}: "${value}" is not a duration such as 30s, 1m, 1h30m or 2d`);
  let total = 0;
  for (const [, n, unit] of value.matchAll(/([0-9]+)([smhd])/g))
    total += Number(n) * UNIT_MS[unit as keyof typeof UNIT_MS];
  if (total <= 0) throw new PgbackmanError('USAGE', `${flag}: "${value}" must be longer than zero`);
  return total;
}
