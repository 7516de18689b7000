import { RUN_STATUSES, VERIFY_STATUSES } from '../catalogue/backup-runs.ts';
import { PgbackmanError } from '../errors.ts';
import { type AllowedDestination, parseAllowedDestinations } from '../storage/allowed-destinations.ts';

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

// Retention's deletion steps filter like statuses: a deleted dump keeps its run status as history.
const STATUS_FILTERS = [...RUN_STATUSES, 'DELETING', 'DELETED'] as const;

/** `get backups --status`: a run status, or a deletion step; a verify result is pointed to --verify. */
export function parseRunStatus(value: string): string {
  const v = value.toUpperCase();
  if ((STATUS_FILTERS as readonly string[]).includes(v)) return v;
  const hint = (VERIFY_STATUSES as readonly string[]).includes(v)
    ? `; ${v} is a verify result: use --verify ${v}`
    : '';
  throw new PgbackmanError('USAGE', `--status: "${value}" is not one of ${STATUS_FILTERS.join(', ')}${hint}`);
}

/** `get backups --verify`: a verify result, or NONE for dumps never verified. */
export function parseVerifyStatus(value: string): string {
  const v = value.toUpperCase();
  const allowed = [...VERIFY_STATUSES, 'NONE'];
  if (allowed.includes(v)) return v;
  throw new PgbackmanError('USAGE', `--verify: "${value}" is not one of ${allowed.join(', ')}`);
}

/** The operator's allowed destinations: each --allow-destination, then PGBACKMAN_ALLOWED_DESTINATIONS (comma-separated). */
export function allowedDestinationsFrom(
  flags: readonly string[] | undefined,
  env: NodeJS.ProcessEnv,
): AllowedDestination[] {
  return parseAllowedDestinations([
    ...(flags ?? []),
    ...(env.PGBACKMAN_ALLOWED_DESTINATIONS ?? '').split(','),
  ]);
}
