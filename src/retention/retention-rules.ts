import { assertNever } from '../errors.ts';
import { offsetAt } from '../schedule/cron/zone-offset.ts';
import { calendarOf, type Tier, tierBucket, tierLabel } from './calendar-buckets.ts';

/**
 * Which dumps retention keeps, and why: period and redundancy as PgBackMan had them, and restic's `forget`
 * tiers (0.17). Pure: the catalogue and the files are the callers' business. Only successful dumps count
 * for any rule, so a run of failures never makes a good dump go.
 */

export type RunStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'MISSED';

export interface RetentionDump {
  readonly id: string;
  readonly status: RunStatus;
  /** When the dump finished (a running one: when it started), in ms. */
  readonly at: number;
  readonly pinned: boolean;
}

export interface KeepTiers {
  readonly last?: number;
  readonly hourly?: number;
  readonly daily?: number;
  readonly weekly?: number;
  readonly monthly?: number;
  readonly yearly?: number;
}

export interface RetentionRules {
  /** Dumps younger than this are kept; undefined when only `keep` is set. */
  readonly periodMs?: number;
  /** As written (`14d`), for the reasons. */
  readonly periodText?: string;
  /** The newest this many successful dumps are never deleted. */
  readonly redundancy: number;
  readonly keep?: KeepTiers;
}

export interface RetentionDecision {
  readonly id: string;
  readonly action: 'keep' | 'delete';
  readonly reasons: readonly string[];
}

/** How long a failed or missed run's leftovers stay when no period is set. */
export const FAILED_CLEANUP_MS = 7 * 86_400_000;
const TIERS: readonly Tier[] = ['hourly', 'daily', 'weekly', 'monthly', 'yearly'];

/** Decides every dump of one definition (or snapshot); the decisions come in the order of `dumps`. */
export function decideRetention(
  dumps: readonly RetentionDump[],
  rules: RetentionRules,
  timezone: string,
  now: number,
): RetentionDecision[] {
  // By the dump itself: hashing an object is cheaper than hashing its id anew for each of a million dumps.
  const reasons = new Map<RetentionDump, string[]>();
  const add = (d: RetentionDump, reason: string) => {
    const list = reasons.get(d);
    if (list === undefined) reasons.set(d, [reason]);
    else list.push(reason);
  };
  const good = dumps
    .filter((d) => d.status === 'SUCCEEDED')
    .sort((a, b) => b.at - a.at || (a.id < b.id ? 1 : -1));
  for (const d of good.slice(0, rules.redundancy)) add(d, 'redundancy');
  const last = rules.keep?.last ?? 0;
  for (const [i, d] of good.slice(0, last).entries()) add(d, `last ${i + 1}/${last}`);
  for (const tier of TIERS) {
    const wanted = rules.keep?.[tier] ?? 0;
    if (wanted > 0) keepTier(good, tier, wanted, timezone, add);
  }
  const periodText = rules.periodText ?? (rules.periodMs === undefined ? '7d' : `${rules.periodMs} ms`);
  // The common verdicts' reasons, made once per group and shared (they are never changed once decided).
  const within = `within ${periodText}`;
  const expired = [rules.periodMs !== undefined ? `expired: older than ${periodText}` : 'kept by no rule'];
  const withinOnly = [within];
  const failedText = rules.periodMs === undefined ? '7d' : periodText;
  const decisions: RetentionDecision[] = [];
  for (const d of dumps) {
    const own = reasons.get(d);
    const age = now - d.at;
    switch (d.status) {
      case 'RUNNING':
        decisions.push({ id: d.id, action: 'keep', reasons: ['running'] });
        continue;
      case 'SUCCEEDED': {
        const young = rules.periodMs !== undefined && age < rules.periodMs;
        if (own === undefined && !d.pinned)
          decisions.push({
            id: d.id,
            action: young ? 'keep' : 'delete',
            reasons: young ? withinOnly : expired,
          });
        else {
          const list = own ?? [];
          if (d.pinned) list.unshift('pinned');
          if (young) list.push(within);
          decisions.push({ id: d.id, action: 'keep', reasons: list });
        }
        continue;
      }
      case 'FAILED':
      case 'MISSED': {
        // Never a reason to keep anything: only its own leftovers, for a while.
        const limit = rules.periodMs ?? FAILED_CLEANUP_MS;
        const status = d.status.toLowerCase();
        if (own === undefined && !d.pinned)
          decisions.push(
            age >= limit
              ? { id: d.id, action: 'delete', reasons: [`${status} run older than ${failedText}`] }
              : { id: d.id, action: 'keep', reasons: [`${status} run, cleaned after ${failedText}`] },
          );
        else {
          const list = own ?? [];
          if (d.pinned) list.unshift('pinned');
          decisions.push({ id: d.id, action: 'keep', reasons: list });
        }
        continue;
      }
      default:
        assertNever(d.status, 'run status');
    }
  }
  return decisions;
}

/**
 * restic's rule: for each of the newest `wanted` periods that have a successful dump, that period's newest
 * dump; when fewer periods exist, the oldest dump too, so a young history keeps its first dump.
 */
function keepTier(
  good: readonly RetentionDump[],
  tier: Tier,
  wanted: number,
  timezone: string,
  add: (d: RetentionDump, reason: string) => void,
): void {
  let previous: number | undefined;
  let found = 0;
  let lastKept: RetentionDump | undefined;
  for (const d of good) {
    const wall = d.at + offsetAt(timezone, d.at);
    const bucket = tierBucket(tier, wall);
    if (bucket === previous) continue;
    previous = bucket;
    found++;
    lastKept = d;
    add(d, `${tier} ${tierLabel(tier, calendarOf(wall))}`);
    if (found === wanted) return;
  }
  const oldest = good[good.length - 1];
  if (oldest !== undefined && oldest !== lastKept)
    add(oldest, `${tier} oldest (${found} of ${wanted} periods so far)`);
}
