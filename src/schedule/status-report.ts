import type { LastRuns } from '../catalogue/backup-runs.ts';
import type { CatalogueObject } from '../catalogue/list-objects.ts';
import { parseDuration } from '../manifest/check-values.ts';
import type { ResolvedSchedule } from './auto-schedule.ts';
import { definitionSchedule, type Parents, type Suspension, suspensionOf } from './definition-schedule.ts';
import { definitionHealth, type Health, type HealthState, snapshotHealth } from './overdue.ts';
import { type RestoreTestHealth, restoreTestHealth } from './restore-test-health.ts';

/** One line of `pgbackman status`: a backup definition, or a snapshot not taken yet. */
export interface StatusEntry {
  readonly kind: 'BackupDefinition' | 'SnapshotDefinition';
  readonly name: string;
  readonly server: string;
  readonly node: string;
  readonly database: string | null;
  readonly state: HealthState;
  readonly lastSuccess: LastRuns['lastSuccess'];
  readonly lastFailure: LastRuns['lastFailure'];
  readonly nextRunAt: string | null;
  readonly dueBy: string | null;
  readonly schedule: ResolvedSchedule | { readonly at: string };
  readonly suspended: Suspension | null;
  /** spec.verify's restore tests, or null for a definition that asks for none. */
  readonly restoreTests: RestoreTestHealth | null;
}

export interface StatusReport {
  readonly definitions: StatusEntry[];
  readonly summary: { readonly total: number } & Readonly<Record<HealthState, number>>;
}

export interface StatusInput {
  readonly definitions: readonly CatalogueObject<'BackupDefinition'>[];
  readonly snapshots: readonly CatalogueObject<'SnapshotDefinition'>[];
  readonly parents: Parents;
  readonly runs: readonly LastRuns[];
  readonly now: Date;
  readonly grace: number;
  /** Per definition name: its last restore test and last pass. */
  readonly restoreTests?: ReadonlyMap<
    string,
    { readonly tested: Date | null; readonly verified: Date | null }
  >;
}

/** Every definition's health from its last runs; snapshots already taken are left out. */
export function statusReport(input: StatusInput): StatusReport {
  const { now, grace, parents } = input;
  const runsOf = new Map(input.runs.map((r) => [`${r.kind}/${r.name}`, r]));
  const last = (kind: string, name: string) => {
    const r = runsOf.get(`${kind}/${name}`);
    const at = (v: { at: string } | null | undefined) => (v ? new Date(v.at) : null);
    return {
      lastSuccess: r?.lastSuccess ?? null,
      lastFailure: r?.lastFailure ?? null,
      lastSuccessAt: at(r?.lastSuccess),
      lastFailureAt: at(r?.lastFailure),
    };
  };
  const entries: StatusEntry[] = [];
  for (const d of input.definitions) {
    const { schedule, suspended } = definitionSchedule(d, parents);
    const l = last(d.kind, d.name);
    const health = definitionHealth({
      ...schedule,
      lastSuccessAt: l.lastSuccessAt,
      lastFailure: l.lastFailureAt && { at: l.lastFailureAt },
      now,
      grace,
      createdAt: new Date(d.createdAt),
      suspended: suspended !== null,
    });
    const verify = d.spec.verify;
    const tests =
      verify === undefined
        ? null
        : restoreTestHealth(input.restoreTests?.get(d.name), parseDuration(verify.every), now, grace);
    entries.push(entry(d, l, health, schedule, suspended, tests));
  }
  for (const s of input.snapshots) {
    const l = last(s.kind, s.name);
    if (l.lastSuccess !== null) continue;
    const suspended = suspensionOf(s, parents);
    const health = snapshotHealth({
      at: new Date(s.spec.at),
      lastSuccessAt: null,
      lastFailure: l.lastFailureAt && { at: l.lastFailureAt },
      now,
      grace,
      suspended: suspended !== null,
    });
    entries.push(entry(s, l, health, { at: new Date(s.spec.at).toISOString() }, suspended, null));
  }
  const summary = { total: entries.length, OK: 0, OVERDUE: 0, NEVER: 0, FAILING: 0, SUSPENDED: 0 };
  for (const e of entries) summary[e.state]++;
  return { definitions: entries, summary };
}

function entry(
  o: CatalogueObject<'BackupDefinition'> | CatalogueObject<'SnapshotDefinition'>,
  l: Pick<StatusEntry, 'lastSuccess' | 'lastFailure'>,
  health: Health,
  schedule: StatusEntry['schedule'],
  suspended: Suspension | null,
  restoreTests: RestoreTestHealth | null,
): StatusEntry {
  return {
    kind: o.kind,
    name: o.name,
    server: o.spec.server,
    node: o.spec.node,
    database: o.spec.database ?? null,
    state: health.state,
    lastSuccess: l.lastSuccess,
    lastFailure: l.lastFailure,
    nextRunAt: health.nextRun?.toISOString() ?? null,
    dueBy: health.dueBy?.toISOString() ?? null,
    schedule,
    suspended,
    restoreTests,
  };
}
