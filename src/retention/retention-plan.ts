import type { RetentionRun, StoredRetention } from '../catalogue/run-retention.ts';
import { parseDuration } from '../manifest/check-values.ts';
import { isoTime } from './iso-time.ts';
import { decideRetention, type KeepTiers, type RetentionRules } from './retention-rules.ts';

/**
 * The retention plan: every dump of the chosen definitions and snapshots, kept or deleted with every reason.
 * Pure: the runs, each group's current rules (when its definition still exists) and the time come in.
 */

export interface PlannedDump {
  readonly id: string;
  readonly server: string;
  readonly definition: string | null;
  readonly snapshot: string | null;
  readonly finishedAt: string;
  readonly status: RetentionRun['status'];
  readonly bytes: number | null;
  readonly pinned: boolean;
  readonly action: 'keep' | 'delete';
  readonly reasons: readonly string[];
}

export interface RetentionPlan {
  readonly dumps: readonly PlannedDump[];
  readonly summary: {
    readonly delete: number;
    readonly deleteBytes: number;
    readonly keep: number;
    /** Dumps a sweep started deleting and did not finish: the next sweep finishes them. */
    readonly deleting: number;
  };
}

/** The rules of one group, as a definition resolves them today or as its runs stored them. */
export interface GroupRetention {
  readonly rules: RetentionRules;
  readonly timezone: string;
}

/** Rules from the stored (or current) form; a snapshot keeps its dump for its period, nothing more. */
export function groupRetention(
  stored: StoredRetention | null,
  kind: 'definition' | 'snapshot',
): GroupRetention {
  const keep = stored?.keep as KeepTiers | undefined;
  const period = stored?.period ?? (keep === undefined ? '7d' : undefined);
  return {
    rules: {
      ...(period === undefined ? {} : { periodMs: parseDuration(period), periodText: period }),
      redundancy: stored?.redundancy ?? (kind === 'snapshot' ? 0 : 1),
      ...(keep === undefined ? {} : { keep }),
    },
    timezone: stored?.timezone ?? 'UTC',
  };
}

/** The group a run belongs to: `BackupDefinition/NAME` or `SnapshotDefinition/NAME`. */
export const groupKeyOf = (r: Pick<RetentionRun, 'definition' | 'snapshot'>): string =>
  r.definition !== null ? `BackupDefinition/${r.definition}` : `SnapshotDefinition/${r.snapshot}`;

/** Group keys in the plan's order. */
export const compareKeys = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export type PlanSummary = RetentionPlan['summary'];
export const emptySummary = (): { -readonly [K in keyof PlanSummary]: PlanSummary[K] } => ({
  delete: 0,
  deleteBytes: 0,
  keep: 0,
  deleting: 0,
});

/**
 * Decides one group's runs (sorted here, oldest first) with `current(key)` when it exists, else with the
 * rules stored on its newest run, and counts them into `summary`.
 */
export function planGroup(
  key: string,
  list: RetentionRun[],
  current: (key: string) => GroupRetention | undefined,
  now: number,
  summary: ReturnType<typeof emptySummary>,
): PlannedDump[] {
  list.sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : 1));
  const newest = list[list.length - 1] as RetentionRun;
  const kind = key.startsWith('Snapshot') ? 'snapshot' : 'definition';
  const { rules, timezone } = current(key) ?? groupRetention(newest.retention, kind);
  // A deletion already under way is finished whatever the rules say now; the rest are decided.
  const open = list.filter((r) => !r.deleting);
  // One decision per open run, in their order.
  const decided = decideRetention(open, rules, timezone, now);
  let next = 0;
  const dumps: PlannedDump[] = [];
  for (const r of list) {
    const d = r.deleting ? undefined : decided[next++];
    const action = r.deleting ? 'delete' : (d?.action ?? 'keep');
    const reasons = r.deleting
      ? ['deletion under way: a sweep stopped before it finished']
      : (d?.reasons ?? []);
    dumps.push(plannedDump(r, action, reasons, summary));
  }
  return dumps;
}

/** One run as the plan shows it, counted in the summary. */
export function plannedDump(
  r: RetentionRun,
  action: PlannedDump['action'],
  reasons: readonly string[],
  summary: ReturnType<typeof emptySummary>,
): PlannedDump {
  if (r.deleting) summary.deleting++;
  if (action === 'delete') {
    summary.delete++;
    summary.deleteBytes += r.bytes ?? 0;
  } else summary.keep++;
  return {
    id: r.id,
    server: r.server,
    definition: r.definition,
    snapshot: r.snapshot,
    finishedAt: isoTime(r.at),
    status: r.status,
    bytes: r.bytes,
    pinned: r.pinned,
    action,
    reasons,
  };
}

/**
 * Groups the runs by definition or snapshot and decides each group with `current(key)` when it exists
 * (`BackupDefinition/NAME`), else with the rules stored on its newest run (a deleted definition's dumps
 * age out under those, and its newest `redundancy` good dumps stay until purged).
 */
export function planRetention(
  runs: readonly RetentionRun[],
  current: (key: string) => GroupRetention | undefined,
  now: number,
): RetentionPlan {
  const groups = new Map<string, RetentionRun[]>();
  for (const r of runs) {
    const key = groupKeyOf(r);
    const list = groups.get(key);
    if (list === undefined) groups.set(key, [r]);
    else list.push(r);
  }
  const dumps: PlannedDump[] = [];
  const summary = emptySummary();
  for (const [key, list] of [...groups].sort(([a], [b]) => compareKeys(a, b)))
    for (const d of planGroup(key, list, current, now, summary)) dumps.push(d);
  return { dumps, summary };
}
