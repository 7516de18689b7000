import { createHash } from 'node:crypto';
import type { PgSQLNode } from '../manifest/generated/manifest-types.ts';
import { shiftDaysOfWeek } from './shift-days-of-week.ts';

/** The cron a definition runs on, the zone it is read in, and whether pgbackman chose it (`auto`). */
export interface ResolvedSchedule {
  readonly cron: string;
  readonly timezone: string;
  readonly auto: boolean;
}

export interface ScheduledDefinition {
  readonly kind: string;
  readonly name: string;
  readonly schedule?: string | undefined;
}

export interface WindowNode {
  readonly name: string;
  readonly backupWindow?: PgSQLNode['spec']['backupWindow'] | undefined;
  readonly defaults?: { readonly timezone?: string | undefined } | undefined;
}

export const DEFAULT_WINDOW = { start: '01:00', end: '06:59' } as const;
const DAY = 24 * 60;

/**
 * A definition's schedule as a 5-field cron (or its own cron). `auto` is a minute in [start, end) of the
 * node's backup window, read in the node's defaults.timezone (UTC when unset), chosen by
 * sha256("Kind/name"): the same on every agent and restart, and independent of other definitions.
 * A minute after midnight of a wrapping window runs the day after the window's start day: daysOfWeek
 * shift by one; a window with daysOfMonth or months other than `*` uses only its part before midnight.
 */
export function resolveSchedule(
  definition: ScheduledDefinition,
  node: WindowNode,
  definitionTimezone: string,
): ResolvedSchedule {
  const schedule = definition.schedule ?? 'auto';
  if (schedule !== 'auto') return { cron: schedule, timezone: definitionTimezone, auto: false };
  const w = node.backupWindow ?? {};
  const start = minuteOfDay(w.start ?? DEFAULT_WINDOW.start);
  // start = end is refused when applied (an empty window); a one-minute window keeps this total.
  const length = (minuteOfDay(w.end ?? DEFAULT_WINDOW.end) - start + DAY) % DAY || 1;
  const [dom, months, dow] = [w.daysOfMonth ?? '*', w.months ?? '*', w.daysOfWeek ?? '*'];
  // Cron cannot say "the day after the 30th" (the 31st or the 1st): such windows keep to their evening.
  const usable = start + length > DAY && (dom !== '*' || months !== '*') ? DAY - start : length;
  const at = start + Math.floor(stableFraction(`${definition.kind}/${definition.name}`) * usable);
  const time = at % DAY;
  const days = at >= DAY ? shiftDaysOfWeek(dow) : dow;
  return {
    cron: `${time % 60} ${Math.floor(time / 60)} ${dom} ${months} ${days}`,
    timezone: node.defaults?.timezone ?? 'UTC',
    auto: true,
  };
}

/** A fraction in [0, 1) from the first 48 bits of sha256(identity). */
export function stableFraction(identity: string): number {
  return createHash('sha256').update(identity).digest().readUIntBE(0, 6) / 2 ** 48;
}

function minuteOfDay(clock: string): number {
  const [h, m] = clock.split(':');
  return Number(h) * 60 + Number(m);
}
