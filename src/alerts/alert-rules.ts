import { assertNever } from '../errors.ts';
import { parseDuration } from '../manifest/check-values.ts';
import type { Notify } from '../manifest/generated/manifest-types.ts';

/** What a message is about. */
export const ALERT_EVENTS = [
  'failed',
  'recovered',
  'missed',
  'overdue',
  'verify_failed',
  'restore_failed',
  'disk_low',
  'retention_blocked',
] as const;
export type AlertEvent = (typeof ALERT_EVENTS)[number];

/**
 * A run's end as the rules see it: MISSED, scheduled runs no agent took (one row for a stretch of them);
 * OVERDUE, no run but a definition with no success by its due time plus grace (the agent's own check);
 * DISK_LOW, the server's root directory running out of space (about the BackupServer, not a definition);
 * RETENTION_BLOCKED, a dump retention should delete and may not (a refused path, a copy left).
 */
export type RunStatus =
  | 'SUCCEEDED'
  | 'SUCCEEDED_PARTIAL'
  | 'FAILED'
  | 'MISSED'
  | 'OVERDUE'
  | 'DISK_LOW'
  | 'RETENTION_BLOCKED';

/** Where a webhook's signing key is read: a variable's or a file's name, as the manifest said it. */
export type SecretFrom = { readonly env: string } | { readonly file: string };

/** One place a message goes. */
export type Recipient =
  | { readonly channel: 'email'; readonly target: string; readonly minIntervalMs: number }
  | {
      readonly channel: 'webhook';
      readonly target: string;
      readonly format: 'json' | 'slack';
      readonly secretFrom: SecretFrom | undefined;
      readonly minIntervalMs: number;
    };

const DEFAULT_MIN_INTERVAL = '30m';

/** What ended: a dump (or snapshot), a restore test of one (spec.verify), or a RestoreDefinition's restore. */
export type EndSubject = 'dump' | 'restore-test' | 'restore';

/**
 * The event a run's end raises, if any: a failure always; a success only when the definition's run before
 * it failed (so `recovered` is said once per recovery, however many successes follow). Pure.
 */
export function eventOfRun(
  status: RunStatus,
  previous: RunStatus | null,
  subject: EndSubject = 'dump',
): AlertEvent | undefined {
  // A restore test that failed; one that passed raises nothing (a later success is its own news).
  if (subject === 'restore-test') return status === 'FAILED' ? 'verify_failed' : undefined;
  if (subject === 'restore') return status === 'FAILED' ? 'restore_failed' : undefined;
  switch (status) {
    case 'FAILED':
      return 'failed';
    case 'MISSED':
      return 'missed';
    case 'OVERDUE':
      return 'overdue';
    case 'DISK_LOW':
      return 'disk_low';
    case 'RETENTION_BLOCKED':
      return 'retention_blocked';
    case 'SUCCEEDED':
    case 'SUCCEEDED_PARTIAL':
      return previous === 'FAILED' ? 'recovered' : undefined;
    default:
      return assertNever(status);
  }
}

/**
 * Who hears of `event`: the notify blocks of the definition, its node and its server (nearest first), each
 * with its own events; a recipient named twice is told once, with the shortest interval asked for. Pure.
 */
export function recipientsOf(blocks: readonly (Notify | undefined)[], event: AlertEvent): Recipient[] {
  const out = new Map<string, Recipient>();
  const add = (r: Recipient) => {
    const key = `${r.channel} ${r.target}`;
    const had = out.get(key);
    if (had === undefined) out.set(key, r);
    else if (r.minIntervalMs < had.minIntervalMs) out.set(key, { ...had, minIntervalMs: r.minIntervalMs });
  };
  for (const n of blocks) {
    if (n === undefined) continue;
    if (n.events !== undefined && !n.events.includes(event)) continue;
    const minIntervalMs = parseDuration(n.minInterval ?? DEFAULT_MIN_INTERVAL);
    for (const to of n.email ?? []) add({ channel: 'email', target: to, minIntervalMs });
    for (const w of n.webhooks ?? [])
      add({
        channel: 'webhook',
        target: w.url,
        format: w.format ?? 'json',
        secretFrom: secretFromOf(w.secretFrom),
        minIntervalMs,
      });
  }
  return [...out.values()];
}

function secretFromOf(s: { env?: string; file?: string } | undefined): SecretFrom | undefined {
  if (s?.env !== undefined) return { env: s.env };
  if (s?.file !== undefined) return { file: s.file };
  return undefined;
}

/**
 * Whether a message is held back by the rate limit: one of the same event about the same definition went to
 * the same recipient less than its interval ago. A recovery is never held back: it is said once anyway. Pure.
 */
export function heldBack(
  event: AlertEvent,
  lastQueuedAt: Date | null,
  now: Date,
  minIntervalMs: number,
): boolean {
  if (event === 'recovered' || lastQueuedAt === null) return false;
  return now.getTime() - lastQueuedAt.getTime() < minIntervalMs;
}

/** When to try a message again after `attempts` failed sends: doubling from `baseMs`, at most an hour. Pure. */
export function retryDelayMs(attempts: number, baseMs: number): number {
  return Math.min(3_600_000, baseMs * 2 ** Math.max(0, attempts - 1));
}
