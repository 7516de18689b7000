import type { Queryable } from './catalogue-db.ts';

/**
 * backup_runs as retention reads them: the few columns its rules read, a batch of groups at a time (its
 * writes, pins and deletions, are in retention-steps.ts).
 */

/** The retention a run was taken under, as stored on it (older runs lack `timezone` and `keep`). */
export interface StoredRetention {
  readonly period?: string;
  readonly redundancy?: number;
  readonly keep?: Record<string, number>;
  readonly timezone?: string;
}

export interface RetentionRun {
  readonly id: string;
  readonly server: string;
  readonly definition: string | null;
  readonly snapshot: string | null;
  readonly status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'MISSED';
  /** When it finished (or started, while running), in ms. */
  readonly at: number;
  readonly bytes: number | null;
  readonly dumpPath: string | null;
  readonly retention: StoredRetention | null;
  readonly pinned: boolean;
  readonly deleting: boolean;
}

/** When a run finished (or started, while running), in whole ms since the epoch: the plan's clock. */
const AT_MS = '(extract(epoch from coalesce(finished_at, started_at)) * 1000)::bigint';
/** The columns a plan reads of each run, its stored retention and path aside. */
const PLAN_COLUMNS = `id::text, server, definition, snapshot, status, ${AT_MS}::text as at,
            dump_bytes::text as bytes, pinned_at is not null as pinned, deletion is not null as deleting`;
/** Runs not yet deleted, of server `$1` (or all). */
const LIVE_RUNS = `deletion is distinct from 'DELETED' and ($1::text is null or server = $1)`;

/** retentionRuns' one SELECT: every column retention reads, of every selected run. */
export const RETENTION_RUNS_SQL = `select ${PLAN_COLUMNS}, dump_path, retention
       from pgbackman.backup_runs
      where ${LIVE_RUNS}
        and ($2::text[] is null or definition = any($2) or snapshot = any($2))`;

/** The plan's columns of every live run in one SELECT, without the stored retention and path: the benchmark's floor. */
export const PLAN_RUNS_SQL = `select ${PLAN_COLUMNS} from pgbackman.backup_runs where ${LIVE_RUNS}`;

interface RunRow {
  id: string;
  server: string;
  definition: string | null;
  snapshot: string | null;
  status: RetentionRun['status'] | 'SUCCEEDED_PARTIAL';
  at: string;
  bytes: string | null;
  dump_path: string | null;
  retention: StoredRetention | null;
  pinned: boolean;
  deleting: boolean;
}

const toRun = (r: RunRow): RetentionRun => ({
  id: r.id,
  server: r.server,
  definition: r.definition,
  snapshot: r.snapshot,
  // Retention keeps and counts a dump missing from a further destination as it does any good dump (as the
  // packed reads do: its first letter is S).
  status: r.status === 'SUCCEEDED_PARTIAL' ? 'SUCCEEDED' : r.status,
  at: Number(r.at),
  bytes: r.bytes === null ? null : Number(r.bytes),
  dumpPath: r.dump_path,
  retention: r.retention,
  pinned: r.pinned,
  deleting: r.deleting,
});

/** Every dump not yet deleted, of one server or all; of some definitions and snapshots, or all. */
export async function retentionRuns(
  q: Queryable,
  filter: { readonly server?: string; readonly names?: readonly string[] } = {},
): Promise<RetentionRun[]> {
  const rows = await q.query<RunRow>(RETENTION_RUNS_SQL, [filter.server ?? null, filter.names ?? null]);
  return rows.map(toRun);
}

/** A definition or snapshot with live runs, and how many. */
export interface RunGroup {
  readonly definition: string | null;
  readonly snapshot: string | null;
  readonly runs: number;
}

/**
 * The definitions and snapshots that have live runs (of one server or all; of some names, or all), counted
 * from the live-runs indexes of migration 0010 without reading the table.
 */
export async function retentionGroups(
  q: Queryable,
  filter: { readonly server?: string; readonly names?: readonly string[] } = {},
): Promise<RunGroup[]> {
  const byColumn = (column: 'definition' | 'snapshot') =>
    `select ${column === 'definition' ? 'definition, null' : 'null, snapshot'}, count(*)::int
       from pgbackman.backup_runs
      where ${column} is not null and ${LIVE_RUNS} and ($2::text[] is null or ${column} = any($2))
      group by ${column}`;
  return q.query<RunGroup>(
    `select definition, snapshot, runs
       from (${byColumn('definition')} union all ${byColumn('snapshot')}) as g(definition, snapshot, runs)`,
    [filter.server ?? null, filter.names ?? null],
  );
}

/** The backup servers that took the selected live runs (apply deletes only on one server's host). */
export async function retentionServers(
  q: Queryable,
  filter: { readonly server?: string; readonly names?: readonly string[] } = {},
): Promise<string[]> {
  const rows = await q.query<{ server: string }>(
    `select server from pgbackman.backup_runs
      where ${LIVE_RUNS} and ($2::text[] is null or definition = any($2) or snapshot = any($2))
      group by server order by server`,
    [filter.server ?? null, filter.names ?? null],
  );
  return rows.map((r) => r.server);
}

/** One group's live runs in one row: `runs` as packedRunsOf writes them. */
export interface PackedGroup {
  readonly definition: string | null;
  readonly snapshot: string | null;
  /** `id,at,S|F|R|M,bytes,flags,server` per run (flags: 1 pinned + 2 deleting), `;` between, in no order. */
  readonly runs: string;
  /** The stored retention of the newest run, on groups of `storedOf` only. */
  readonly retention: StoredRetention | null;
  /** The path of each run of a `pathsOf` server that has one (json_agg: JSON.parse reads it fast). */
  readonly paths: string[] | null;
}

/**
 * The live runs of some definitions and snapshots for a plan read a batch at a time, one row per group (a
 * plan over millions of runs decodes thousands of rows): paths only of `pathsOf` servers, the stored
 * retention only of `storedOf` groups (those without current rules). Ids, numbers, statuses and server
 * names (DNS labels) never hold `,` or `;`.
 */
export async function packedRunsOf(
  q: Queryable,
  server: string | undefined,
  groups: { readonly definitions: readonly string[]; readonly snapshots: readonly string[] },
  pathsOf: readonly string[],
  storedOf: { readonly definitions: readonly string[]; readonly snapshots: readonly string[] },
): Promise<PackedGroup[]> {
  const local = 'server = any($4) and dump_path is not null';
  // Per kind of group, so each is an index scan in its name's order that aggregates as it goes, unsorted.
  const byColumn = (column: 'definition' | 'snapshot', names: string, stored: string) =>
    `select ${column === 'definition' ? 'definition, null' : 'null, snapshot'},
            string_agg(concat(id, ',', ${AT_MS}, ',', left(status, 1), ',', dump_bytes, ',',
                              (pinned_at is not null)::int + 2 * (deletion is not null)::int, ',', server), ';'),
            (array_agg(retention order by ${AT_MS} desc, id desc) filter (where ${column} = any(${stored})))[1],
            json_agg(dump_path) filter (where ${local})
       from pgbackman.backup_runs
      where ${LIVE_RUNS} and ${column} = any(${names})
      group by ${column}`;
  return q.query<PackedGroup>(
    `select definition, snapshot, runs, retention, paths
       from (${byColumn('definition', '$2', '$5')} union all ${byColumn('snapshot', '$3', '$6')})
         as g(definition, snapshot, runs, retention, paths)`,
    [server ?? null, groups.definitions, groups.snapshots, pathsOf, storedOf.definitions, storedOf.snapshots],
  );
}
