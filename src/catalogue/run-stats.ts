import type { CatalogueDb, Queryable } from './catalogue-db.ts';

// The reporting statements over backup_runs (backup-runs.ts keeps those that write and list runs). Each is
// answered from one index (migration 0015): a catalogue of 1,000,000 runs is read in milliseconds.

/** Which part of the fleet a report covers: everything, one backup server, or one node. */
export interface StatsScope {
  readonly server?: string;
  readonly node?: string;
}

/** The dumps that are there (not deleted) of one server, node and status. */
export interface RunTally {
  readonly server: string;
  readonly node: string;
  readonly status: string;
  readonly dumps: number;
  readonly bytes: number;
  /** The group's oldest and newest good dump (of the node on the server); null for other statuses. */
  readonly oldest: string | null;
  readonly newest: string | null;
  /** Whose files a verify re-hashed and found intact (verify_status OK). */
  readonly hashVerified: number;
  /** Restored by a restore test and found VERIFIED. */
  readonly restoreTested: number;
}

function scopeWhere(scope: StatsScope, params: unknown[], where: string[]): void {
  if (scope.server !== undefined) {
    params.push(scope.server);
    where.push(`server = $${params.length}`);
  }
  if (scope.node !== undefined) {
    params.push(scope.node);
    where.push(`node = $${params.length}`);
  }
}

/**
 * The kept dumps per server, node and status: summed from run_tallies (one row per group, plus the writes
 * since the last merge), with each group's oldest and newest good dump probed from an index.
 */
export async function tallyKeptRuns(q: Queryable, scope: StatsScope): Promise<RunTally[]> {
  const params: unknown[] = [];
  const where: string[] = [];
  scopeWhere(scope, params, where);
  const rows = await q.query<Record<string, unknown>>(
    `with t as (
       select server, node, status, sum(dumps) as dumps, sum(bytes) as bytes, sum(hash_verified) as hash_verified,
              sum(restore_tested) as restore_tested
         from pgbackman.run_tallies ${where.length > 0 ? `where ${where.join(' and ')}` : ''}
        group by server, node, status having sum(dumps) <> 0)
     select t.server, t.node, t.status, t.dumps::text, t.bytes::text, t.hash_verified::text, t.restore_tested::text,
            g.oldest, g.newest
       from t
       left join lateral (
         select (select min(started_at) from pgbackman.backup_runs r
                  where r.server = t.server and r.node = t.node and r.deletion is null
                    and r.status in ('SUCCEEDED', 'SUCCEEDED_PARTIAL')) as oldest,
                (select max(started_at) from pgbackman.backup_runs r
                  where r.server = t.server and r.node = t.node and r.deletion is null
                    and r.status in ('SUCCEEDED', 'SUCCEEDED_PARTIAL')) as newest
          where t.status in ('SUCCEEDED', 'SUCCEEDED_PARTIAL')) g on true
      order by t.server, t.node, t.status`,
    params,
  );
  const time = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string).toISOString());
  return rows.map((r) => ({
    server: String(r.server),
    node: String(r.node),
    status: String(r.status),
    dumps: Number(r.dumps),
    bytes: Number(r.bytes),
    oldest: time(r.oldest),
    newest: time(r.newest),
    hashVerified: Number(r.hash_verified),
    restoreTested: Number(r.restore_tested),
  }));
}

export interface RecentProblems {
  readonly failed24h: number;
  readonly failed7d: number;
  readonly missed24h: number;
  readonly missed7d: number;
}

/** Runs that failed or were missed in the last 24 hours and 7 days before `now`, deleted or not. */
export async function recentProblems(q: Queryable, scope: StatsScope, now: Date): Promise<RecentProblems> {
  const params: unknown[] = [now.toISOString()];
  const where = [
    "status in ('FAILED', 'MISSED')",
    `started_at >= $1::timestamptz - interval '7 days'`,
    'started_at <= $1::timestamptz',
  ];
  scopeWhere(scope, params, where);
  const [row] = await q.query<Record<string, string>>(
    `select count(*) filter (where status = 'FAILED' and started_at >= $1::timestamptz - interval '24 hours')::text as f24,
            count(*) filter (where status = 'FAILED')::text as f7,
            count(*) filter (where status = 'MISSED' and started_at >= $1::timestamptz - interval '24 hours')::text as m24,
            count(*) filter (where status = 'MISSED')::text as m7
       from pgbackman.backup_runs where ${where.join(' and ')}`,
    params,
  );
  return {
    failed24h: Number(row?.f24 ?? 0),
    failed7d: Number(row?.f7 ?? 0),
    missed24h: Number(row?.m24 ?? 0),
    missed7d: Number(row?.m7 ?? 0),
  };
}

/** How many objects a report's scope covers. */
export interface FleetCounts {
  readonly servers: number;
  readonly nodes: number;
  readonly definitions: number;
  readonly suspendedDefinitions: number;
  /** Definitions with spec.verify: their dumps are restore-tested on a schedule. */
  readonly restoreTestedDefinitions: number;
  readonly snapshots: number;
}

/**
 * The servers, nodes, definitions and snapshots in scope. A server's nodes are those its definitions or
 * snapshots dump; a node's servers are those that dump it.
 */
export async function fleetCounts(q: Queryable, scope: StatsScope): Promise<FleetCounts> {
  const params: unknown[] = [];
  const where: string[] = [];
  scopeWhere(scope, params, where);
  const w = where.length > 0 ? `where ${where.join(' and ')}` : '';
  // One pass over each table: reading a spec is most of the cost at 20,000 definitions.
  const servers =
    scope.node !== undefined
      ? 'select count(distinct server) from (select server from d union select server from s) x'
      : `select count(*) from pgbackman.backup_servers${scope.server === undefined ? '' : ' where name = $1'}`;
  const nodes =
    scope.server !== undefined
      ? 'select count(distinct node) from (select node from d union select node from s) x'
      : `select count(*) from pgbackman.pgsql_nodes${scope.node === undefined ? '' : ` where name = $${params.length}`}`;
  const [row] = await q.query<Record<string, string>>(
    `with d as (select server, node, spec from pgbackman.backup_definitions ${w}),
          s as (select server, node from pgbackman.snapshot_definitions ${w}),
          c as (select count(*) as definitions, count(*) filter (where spec->>'suspend' = 'true') as suspended,
                       count(*) filter (where spec ? 'verify') as tested from d)
     select (${servers})::text as servers, (${nodes})::text as nodes, c.definitions::text, c.suspended::text,
            c.tested::text, (select count(*) from s)::text as snapshots
       from c`,
    params,
  );
  return {
    servers: Number(row?.servers ?? 0),
    nodes: Number(row?.nodes ?? 0),
    definitions: Number(row?.definitions ?? 0),
    suspendedDefinitions: Number(row?.suspended ?? 0),
    restoreTestedDefinitions: Number(row?.tested ?? 0),
    snapshots: Number(row?.snapshots ?? 0),
  };
}

/** Taken (per server) while its tallies are merged: a second merge of the same rows would only wait. */
const TALLY_LOCK = 0x70676274;

/**
 * Merges one server's tally rows (the deltas each write to backup_runs appended) into one row per node and
 * status, in one short transaction; skipped when another merge of the server is under way. The sums are
 * unchanged: rows inserted meanwhile are not seen by the delete and stay for the next merge.
 */
export async function compactRunTallies(db: CatalogueDb, server: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    const [lock] = await tx.query<{ ok: boolean }>(
      'select pg_try_advisory_xact_lock($1, hashtext($2)) as ok',
      [TALLY_LOCK, server],
    );
    if (lock?.ok !== true) return false;
    await tx.query(
      `with gone as (delete from pgbackman.run_tallies where server = $1 returning *)
       insert into pgbackman.run_tallies (server, node, status, dumps, bytes, hash_verified, restore_tested)
       select server, node, status, sum(dumps), sum(bytes), sum(hash_verified), sum(restore_tested)
         from gone group by server, node, status
       having sum(dumps) <> 0 or sum(bytes) <> 0 or sum(hash_verified) <> 0 or sum(restore_tested) <> 0`,
      [server],
    );
    return true;
  });
}

/**
 * Per definition named, the sizes of its last `n` good dumps that are kept, oldest first: one probe of
 * `(definition, started_at desc)` per definition (a page's worth, not every definition of a server).
 */
export async function recentSizes(
  q: Queryable,
  server: string,
  names: readonly string[],
  n: number,
): Promise<Map<string, number[]>> {
  const rows = await q.query<{ name: string; sizes: string | null }>(
    `select d.name, (select string_agg(coalesce(s.dump_bytes, 0)::text, ',' order by s.started_at)
                       from (select r.dump_bytes, r.started_at from pgbackman.backup_runs r
                              where r.definition = d.name and r.deletion is null
                                and r.status in ('SUCCEEDED', 'SUCCEEDED_PARTIAL')
                              order by r.started_at desc limit $2) s) as sizes
       from pgbackman.backup_definitions d where d.server = $1 and d.name = any($3::text[])`,
    [server, n, names],
  );
  return new Map(rows.map((r) => [r.name, r.sizes === null ? [] : r.sizes.split(',').map(Number)]));
}

/** What the kept dumps of a server take at each further destination, as their copies were recorded. */
export async function copiedBytes(q: Queryable, server: string): Promise<Map<string, number>> {
  const rows = await q.query<{ destination: string; bytes: string }>(
    `select c.destination, coalesce(sum(c.bytes), 0)::text as bytes
       from pgbackman.dump_copies c join pgbackman.backup_runs r on r.id = c.run_id
      where r.server = $1 and r.deletion is null and c.status = 'COPIED'
      group by c.destination`,
    [server],
  );
  return new Map(rows.map((r) => [r.destination, Number(r.bytes)]));
}
