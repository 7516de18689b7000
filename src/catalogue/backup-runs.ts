import type { DumpEncryption } from '../encryption/dump-encryption.ts';
import type { Queryable } from './catalogue-db.ts';

// Every statement on pgbackman.backup_runs: the run's record (start, end, a spooled upsert, verify), the
// runs left RUNNING, the listing `get backups` and `describe backup` read, and the last runs `status` reads.

export interface RunStart {
  readonly id: string;
  readonly server: string;
  readonly node: string;
  readonly database: string | null;
  readonly code: string;
  readonly definition: string | null;
  readonly snapshot: string | null;
  readonly startedAt: Date;
  readonly retention: unknown;
  /** The host and process taking the run: only they can tell whether it is still going. */
  readonly host: string;
  readonly pid: number;
  /** The manifest revision the definition was applied from (its source_revision), when known. */
  readonly revision?: string | null;
}

export interface RunEnd {
  /** SUCCEEDED_PARTIAL: in the root, but not yet recorded at every further destination (a spooled end). */
  readonly status: 'SUCCEEDED' | 'SUCCEEDED_PARTIAL' | 'FAILED';
  readonly finishedAt: Date;
  readonly dumpBytes: number | null;
  readonly dumpPath: string | null;
  readonly logPath: string | null;
  readonly rolesPath: string | null;
  readonly configPath: string | null;
  readonly sha256: Record<string, unknown> | null;
  readonly pgDumpVersion: string | null;
  readonly serverVersion: string | null;
  readonly databaseBytes: number | null;
  readonly error: string | null;
  /** Each table's estimated rows when the dump was taken (`schema.table` → rows), for restore tests. */
  readonly tableEstimates?: Readonly<Record<string, number>> | null;
  /** The source cluster's system identifier. */
  readonly sourceSystemIdentifier?: string | null;
  /** How the files were encrypted (recipients, plaintext checksums); null or absent when they were not. */
  readonly encryption?: DumpEncryption | null;
}

export async function recordStart(q: Queryable, r: RunStart): Promise<void> {
  await q.query(
    `insert into pgbackman.backup_runs (id, server, node, database, code, definition, snapshot, status, started_at, retention,
            host, pid, revision)
     values ($1, $2, $3, $4, $5, $6, $7, 'RUNNING', $8, $9, $10, $11, $12)`,
    [
      r.id,
      r.server,
      r.node,
      r.database,
      r.code,
      r.definition,
      r.snapshot,
      r.startedAt.toISOString(),
      JSON.stringify(r.retention),
      r.host,
      r.pid,
      r.revision ?? null,
    ],
  );
}

export async function recordEnd(q: Queryable, id: string, startedAt: Date, e: RunEnd): Promise<void> {
  await q.query(
    `update pgbackman.backup_runs set status = $2, finished_at = $3, duration_ms = $4, dump_bytes = $5, dump_path = $6,
            log_path = $7, roles_path = $8, config_path = $9, sha256 = $10, pg_dump_version = $11, server_version = $12,
            database_bytes = $13, error = $14, table_estimates = $15, source_system_identifier = $16, encryption = $17
      where id = $1 and status = 'RUNNING'`,
    [id, e.status, ...endValues(e, startedAt)],
  );
}

/** An end's values from finished_at to error, in the column order every statement that records one uses. */
export function endValues(e: RunEnd, startedAt: Date): unknown[] {
  return [
    e.finishedAt.toISOString(),
    e.finishedAt.getTime() - startedAt.getTime(),
    e.dumpBytes,
    e.dumpPath,
    e.logPath,
    e.rolesPath,
    e.configPath,
    e.sha256 === null ? null : JSON.stringify(e.sha256),
    e.pgDumpVersion,
    e.serverVersion,
    e.databaseBytes,
    e.error,
    e.tableEstimates == null ? null : JSON.stringify(e.tableEstimates),
    e.sourceSystemIdentifier ?? null,
    e.encryption == null ? null : JSON.stringify(e.encryption),
  ];
}

/** The runs of the same definition on the same server still RUNNING, other than `r` itself. */
export async function selectRunning(
  q: Queryable,
  r: Pick<RunStart, 'id' | 'server' | 'definition' | 'snapshot'>,
) {
  return q.query<{
    id: string;
    node: string;
    database: string | null;
    code: string;
    started_ms: string;
    host: string | null;
    pid: number | null;
  }>(
    `select id::text, node, database, code, (extract(epoch from started_at) * 1000)::bigint::text as started_ms, host, pid
       from pgbackman.backup_runs
      where status = 'RUNNING' and server = $1 and definition is not distinct from $2
        and snapshot is not distinct from $3 and id <> $4`,
    [r.server, r.definition, r.snapshot, r.id],
  );
}

/** Every run of a server still RUNNING on one host (or on no recorded host): what a starting agent checks. */
export async function selectRunningOnHost(q: Queryable, server: string, host: string) {
  return q.query<{
    id: string;
    node: string;
    database: string | null;
    code: string;
    definition: string | null;
    snapshot: string | null;
    started_ms: string;
    pid: number | null;
  }>(
    `select id::text, node, database, code, definition, snapshot,
            (extract(epoch from started_at) * 1000)::bigint::text as started_ms, pid
       from pgbackman.backup_runs
      where status = 'RUNNING' and server = $1 and (host = $2 or host is null)`,
    [server, host],
  );
}

/** A spooled record: an upsert by run id, so sending it twice records it once; SUCCEEDED never goes back. */
export async function upsertRun(q: Queryable, run: { start: RunStart; end: RunEnd }): Promise<void> {
  const s = run.start;
  const e = run.end;
  await q.query(
    `insert into pgbackman.backup_runs (id, server, node, database, code, definition, snapshot, status, started_at, retention,
              finished_at, duration_ms, dump_bytes, dump_path, log_path, roles_path, config_path, sha256, pg_dump_version,
              server_version, database_bytes, error, table_estimates, source_system_identifier, encryption, host, pid, revision)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28)
       on conflict (id) do update set status = excluded.status, finished_at = excluded.finished_at,
              duration_ms = excluded.duration_ms, dump_bytes = excluded.dump_bytes, dump_path = excluded.dump_path,
              log_path = excluded.log_path, roles_path = excluded.roles_path, config_path = excluded.config_path,
              sha256 = excluded.sha256, pg_dump_version = excluded.pg_dump_version, server_version = excluded.server_version,
              database_bytes = excluded.database_bytes, error = excluded.error, table_estimates = excluded.table_estimates,
              source_system_identifier = excluded.source_system_identifier, encryption = excluded.encryption,
              host = excluded.host, pid = excluded.pid
        -- A record never goes back: what was recorded SUCCEEDED (or SUCCEEDED_PARTIAL) stays so.
        where backup_runs.status not in ('SUCCEEDED', 'SUCCEEDED_PARTIAL') or excluded.status = 'SUCCEEDED'`,
    [
      s.id,
      s.server,
      s.node,
      s.database,
      s.code,
      s.definition,
      s.snapshot,
      e.status,
      new Date(s.startedAt).toISOString(),
      JSON.stringify(s.retention),
      ...endValues(e, new Date(s.startedAt)),
      s.host ?? null,
      s.pid ?? null,
      s.revision ?? null,
    ],
  );
}

/** One row for the runs a definition missed while no agent ran it (its times in `missed`), never a dump. */
export async function recordMissed(
  q: Queryable,
  m: Pick<RunStart, 'id' | 'server' | 'node' | 'database' | 'code' | 'definition' | 'snapshot' | 'host'> & {
    readonly times: readonly Date[];
    readonly revision: string | null;
    readonly reason: string;
  },
): Promise<void> {
  const first = m.times[0] ?? new Date();
  const last = m.times.at(-1) ?? first;
  await q.query(
    `insert into pgbackman.backup_runs (id, server, node, database, code, definition, snapshot, status, started_at,
            finished_at, duration_ms, error, host, revision, missed)
     values ($1, $2, $3, $4, $5, $6, $7, 'MISSED', $8, $9, 0, $10, $11, $12, $13)`,
    [
      m.id,
      m.server,
      m.node,
      m.database,
      m.code,
      m.definition,
      m.snapshot,
      first.toISOString(),
      last.toISOString(),
      m.reason,
      m.host,
      m.revision,
      JSON.stringify(m.times.map((t) => t.toISOString())),
    ],
  );
}

/** When each definition of a server last started a run (or missed one): where missed-run counting resumes. */
export async function lastRunTimes(q: Queryable, server: string): Promise<Map<string, Date>> {
  const rows = await q.query<{ address: string; at: Date | string }>(
    `select case when definition is not null then 'BackupDefinition/' || definition
                 else 'SnapshotDefinition/' || snapshot end as address,
            max(coalesce(case when status = 'MISSED' then finished_at end, started_at)) as at
       from pgbackman.backup_runs where server = $1 group by 1`,
    [server],
  );
  return new Map(rows.map((r) => [r.address, new Date(r.at)]));
}

export async function recordVerification(
  q: Queryable,
  v: { readonly id: string; readonly status: string; readonly error: string | null },
): Promise<void> {
  await q.query(
    'update pgbackman.backup_runs set verified_at = now(), verify_status = $2, verify_error = $3 where id = $1',
    [v.id, v.status, v.error],
  );
}

/** A restore test's result on the dump it restored. */
export async function recordRestoreVerification(
  q: Queryable,
  v: { readonly id: string; readonly status: 'VERIFIED' | 'VERIFY_FAILED'; readonly details: unknown },
): Promise<void> {
  await q.query(
    `update pgbackman.backup_runs set restore_verified_at = now(), restore_verify_status = $2, restore_verify_details = $3
      where id = $1`,
    [v.id, v.status, JSON.stringify(v.details)],
  );
}

/** Per definition, when a restore test last ran on any of its dumps, and when one last passed. */
export async function lastRestoreTests(
  q: Queryable,
  server: string | null,
  definitions: readonly string[],
): Promise<Map<string, { readonly tested: Date | null; readonly verified: Date | null }>> {
  const rows = await q.query<{ definition: string; tested: string | null; verified: string | null }>(
    `select definition, max(restore_verified_at)::text as tested,
            max(restore_verified_at) filter (where restore_verify_status = 'VERIFIED')::text as verified
       from pgbackman.backup_runs where ($1::text is null or server = $1) and definition = any($2::text[])
      group by definition`,
    [server, definitions],
  );
  const at = (v: string | null) => (v === null ? null : new Date(v));
  return new Map(rows.map((r) => [r.definition, { tested: at(r.tested), verified: at(r.verified) }]));
}

/**
 * A dump found on disk (its folder's backup.json) entered as a SUCCEEDED run: `imported` when the id was
 * new, `known` when the catalogue has that run with the same dump path, `conflict` when it has it otherwise.
 */
export async function importRun(
  q: Queryable,
  r: BackupRun,
): Promise<'imported' | 'known' | { conflict: string }> {
  const inserted = await q.query<{ id: string }>(
    `insert into pgbackman.backup_runs (id, server, node, database, code, definition, snapshot, status, started_at,
            finished_at, duration_ms, dump_bytes, dump_path, log_path, roles_path, config_path, sha256, pg_dump_version,
            server_version, database_bytes, retention, revision, table_estimates, source_system_identifier, encryption,
            root_copy)
     values ($1, $2, $3, $4, $5, $6, $7, 'SUCCEEDED', $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21,
             $22, $23, $24, $25)
     on conflict (id) do nothing returning id::text`,
    [
      r.id,
      r.server,
      r.node,
      r.database,
      r.code,
      r.definition,
      r.snapshot,
      r.startedAt,
      r.finishedAt,
      r.durationMs,
      r.dumpBytes,
      r.dumpPath,
      r.logPath,
      r.rolesPath,
      r.configPath,
      JSON.stringify(r.sha256),
      r.pgDumpVersion,
      r.serverVersion,
      r.databaseBytes,
      JSON.stringify(r.retention),
      r.revision,
      r.tableEstimates === null ? null : JSON.stringify(r.tableEstimates),
      r.sourceSystemIdentifier,
      r.encryption === null ? null : JSON.stringify(r.encryption),
      r.rootCopy,
    ],
  );
  if (inserted.length > 0) return 'imported';
  const [had] = await q.query<{ status: string; dump_path: string | null; deletion: string | null }>(
    'select status, dump_path, deletion from pgbackman.backup_runs where id = $1',
    [r.id],
  );
  if (had !== undefined && isGoodRun(had.status) && had.dump_path === r.dumpPath && had.deletion === null)
    return 'known';
  return {
    conflict: `the catalogue has run ${r.id} as ${had?.status ?? '?'}${had?.deletion ? ` (${had.deletion})` : ''} at ${had?.dump_path ?? 'no path'}`,
  };
}

/**
 * A good dump's status after its copies: SUCCEEDED when every further destination has it, else
 * SUCCEEDED_PARTIAL with `missing` (which copies failed, and why) as its error. Never touches another status.
 */
export async function setCopyOutcome(q: Queryable, id: string, missing: string | null): Promise<void> {
  await q.query(
    `update pgbackman.backup_runs
        set status = case when $2::text is null then 'SUCCEEDED' else 'SUCCEEDED_PARTIAL' end, error = $2::text
      where id = $1::uuid and status in ('SUCCEEDED', 'SUCCEEDED_PARTIAL')`,
    [id, missing],
  );
}

/**
 * Marks a staged dump's folder in the root as being removed: only a SUCCEEDED dump (every copy it is owed
 * made) with a recorded copy at `primary`, of that kind, at that very location (a destination renamed or
 * moved by a later manifest holds nothing of it), and that retention is not deleting. False: not to remove.
 */
export async function markRootReleasing(
  q: Queryable,
  id: string,
  primary: { readonly name: string; readonly kind: 'local' | 's3'; readonly location: string },
): Promise<boolean> {
  const rows = await q.query(
    `update pgbackman.backup_runs r set root_copy = 'RELEASING'
      where r.id = $1::uuid and r.status = 'SUCCEEDED' and r.deletion is null and r.root_copy <> 'RELEASED'
        and exists (select 1 from pgbackman.dump_copies c
                     where c.run_id = r.id and c.destination = $2 and c.kind = $3 and c.location = $4
                       and c.status = 'COPIED')
      returning r.id`,
    [id, primary.name, primary.kind, primary.location],
  );
  return rows.length > 0;
}

export async function markRootReleased(q: Queryable, id: string): Promise<void> {
  await q.query(
    `update pgbackman.backup_runs set root_copy = 'RELEASED' where id = $1::uuid and root_copy = 'RELEASING'`,
    [id],
  );
}

/** A server's dumps whose folder in the root a process that died was removing. */
export async function releasingRoots(
  q: Queryable,
  server: string,
  limit: number,
): Promise<{ id: string; dumpPath: string }[]> {
  const rows = await q.query<{ id: string; dump_path: string }>(
    `select id::text, dump_path from pgbackman.backup_runs
      where server = $1 and root_copy = 'RELEASING' and dump_path is not null limit $2`,
    [server, limit],
  );
  return rows.map((r) => ({ id: r.id, dumpPath: r.dump_path }));
}

/**
 * A server's SUCCEEDED dumps still in the root with a copy elsewhere, newest first: those whose storage
 * stages in the root are released by the copy pass (their own release failed, or they became SUCCEEDED there).
 */
export async function keptWithCopies(
  q: Queryable,
  server: string,
  limit: number,
  /** Only runs of these definitions or snapshots (those whose own storage stages); all of them when undefined. */
  only?: readonly string[],
): Promise<{ id: string; dumpPath: string; definition: string | null; snapshot: string | null }[]> {
  const rows = await q.query<{
    id: string;
    dump_path: string;
    definition: string | null;
    snapshot: string | null;
  }>(
    `select r.id::text, r.dump_path, r.definition, r.snapshot from pgbackman.backup_runs r
      where r.server = $1 and r.status = 'SUCCEEDED' and r.root_copy = 'KEPT' and r.deletion is null
        and r.dump_path is not null
        and exists (select 1 from pgbackman.dump_copies c where c.run_id = r.id and c.status = 'COPIED')
        and ($3::text[] is null or r.definition = any($3::text[]) or r.snapshot = any($3::text[]))
      order by r.started_at desc limit $2`,
    [server, limit, only === undefined ? null : [...only]],
  );
  return rows.map((r) => ({
    id: r.id,
    dumpPath: r.dump_path,
    definition: r.definition,
    snapshot: r.snapshot,
  }));
}

export const RUN_STATUSES = ['RUNNING', 'SUCCEEDED', 'SUCCEEDED_PARTIAL', 'FAILED', 'MISSED'] as const;

/** A dump that is there to restore: SUCCEEDED, or SUCCEEDED_PARTIAL (in the root, missing from a further destination). */
export function isGoodRun(status: string): boolean {
  return status === 'SUCCEEDED' || status === 'SUCCEEDED_PARTIAL';
}
export const VERIFY_STATUSES = ['OK', 'CORRUPT', 'MISSING'] as const;

/** One catalogued dump, as `get backups` and `describe backup` show it. */
export interface BackupRun {
  readonly id: string;
  readonly status: (typeof RUN_STATUSES)[number];
  readonly server: string;
  readonly node: string;
  readonly database: string | null;
  readonly code: string;
  readonly definition: string | null;
  readonly snapshot: string | null;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  readonly durationMs: number | null;
  readonly dumpBytes: number | null;
  readonly dumpPath: string | null;
  readonly logPath: string | null;
  readonly rolesPath: string | null;
  readonly configPath: string | null;
  readonly sha256: unknown;
  readonly pgDumpVersion: string | null;
  readonly serverVersion: string | null;
  readonly databaseBytes: number | null;
  readonly retention: unknown;
  readonly error: string | null;
  readonly deletedAt: string | null;
  /** DELETING while its files are being removed, DELETED after; null for a dump that is there. */
  readonly deletion: 'DELETING' | 'DELETED' | null;
  /** The rule that deleted it (`expired: older than 14d`), or who purged it. */
  readonly deletedReason: string | null;
  readonly pin: { readonly at: string; readonly by: string; readonly reason: string | null } | null;
  readonly verifiedAt: string | null;
  readonly verifyStatus: string | null;
  readonly verifyError: string | null;
  /** Each table's estimated rows when the dump was taken; null for CLUSTER dumps and older runs. */
  readonly tableEstimates: Readonly<Record<string, number>> | null;
  /** The source cluster's pg_control system identifier (null for older runs). */
  readonly sourceSystemIdentifier: string | null;
  /** The last restore test: when, VERIFIED or VERIFY_FAILED, and what it found. */
  readonly restoreVerifiedAt: string | null;
  readonly restoreVerifyStatus: 'VERIFIED' | 'VERIFY_FAILED' | null;
  readonly restoreVerifyDetails: unknown;
  /** The manifest revision the definition was applied from when the run started. */
  readonly revision: string | null;
  /** MISSED only: the times it should have run while no agent was there to run it. */
  readonly missed: readonly string[] | null;
  /** How its files were encrypted (age recipients, each file's plaintext checksum); null: in plaintext. */
  readonly encryption: DumpEncryption | null;
  /**
   * The dump's folder in the root directory: KEPT, or (its storage list starting with a bucket, where it
   * was only staged) RELEASING / RELEASED once every destination holds it.
   */
  readonly rootCopy: 'KEPT' | 'RELEASING' | 'RELEASED';
}

export interface BackupFilter {
  readonly id?: string;
  readonly server?: string;
  readonly node?: string;
  readonly database?: string;
  readonly definition?: string;
  readonly snapshot?: string;
  /** A run status, or DELETING / DELETED for dumps retention is deleting or has deleted. */
  readonly status?: string;
  /** Only dumps there to restore: SUCCEEDED or SUCCEEDED_PARTIAL. */
  readonly good?: boolean;
  /** Deleted dumps too (they are left out unless asked for, or the status asks for them). */
  readonly includeDeleted?: boolean;
  /** A verify result, or NONE for dumps never verified. */
  readonly verify?: string;
  readonly since?: Date;
  /** Started before this time (a restore of the newest dump taken before it). */
  readonly before?: Date;
  readonly limit?: number;
}

const COLUMNS = `id::text, status, server, node, database, code, definition, snapshot, started_at, finished_at,
  duration_ms::text, dump_bytes::text, dump_path, log_path, roles_path, config_path, sha256, pg_dump_version,
  server_version, database_bytes::text, retention, error, deleted_at, verified_at, verify_status, verify_error,
  revision, missed, deletion, deleted_reason, pinned_at, pinned_by, pin_reason, table_estimates, source_system_identifier, restore_verified_at,
  restore_verify_status, restore_verify_details, encryption, root_copy`;

/** Dumps, newest first, filtered in SQL. */
export async function listBackups(q: Queryable, filter: BackupFilter = {}): Promise<BackupRun[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, value: unknown) => {
    params.push(value);
    where.push(sql.replace('?', `$${params.length}`));
  };
  if (filter.id !== undefined) add('id::text like ?', `${filter.id}%`);
  if (filter.server !== undefined) add('server = ?', filter.server);
  if (filter.node !== undefined) add('node = ?', filter.node);
  if (filter.database !== undefined) add('database = ?', filter.database);
  if (filter.definition !== undefined) add('definition = ?', filter.definition);
  if (filter.snapshot !== undefined) add('snapshot = ?', filter.snapshot);
  const status = filter.status?.toUpperCase();
  if (status === 'DELETED' || status === 'DELETING') add('deletion = ?', status);
  else {
    if (status !== undefined) add('status = ?', status);
    if (filter.good === true) where.push("status in ('SUCCEEDED', 'SUCCEEDED_PARTIAL')");
    if (filter.includeDeleted !== true) where.push("deletion is distinct from 'DELETED'");
  }
  if (filter.verify === 'NONE') where.push('verify_status is null');
  else if (filter.verify !== undefined) add('verify_status = ?', filter.verify);
  if (filter.since !== undefined) add('started_at >= ?', filter.since.toISOString());
  if (filter.before !== undefined) add('started_at < ?', filter.before.toISOString());
  params.push(filter.limit ?? 100);
  const rows = await q.query<Record<string, unknown>>(
    `select ${COLUMNS} from pgbackman.backup_runs ${where.length > 0 ? `where ${where.join(' and ')}` : ''}
      order by started_at desc limit $${params.length}`,
    params,
  );
  return rows.map(toRun);
}

// pg parses jsonb; PGlite served over the socket may hand it over as text.
const json = (v: unknown): unknown => (typeof v === 'string' ? JSON.parse(v) : v);

function toRun(r: Record<string, unknown>): BackupRun {
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  const time = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string).toISOString());
  const str = (v: unknown) => (v === null || v === undefined ? null : String(v));
  return {
    id: String(r.id),
    status: r.status as BackupRun['status'],
    server: String(r.server),
    node: String(r.node),
    database: str(r.database),
    code: String(r.code),
    definition: str(r.definition),
    snapshot: str(r.snapshot),
    startedAt: time(r.started_at) as string,
    finishedAt: time(r.finished_at),
    durationMs: num(r.duration_ms),
    dumpBytes: num(r.dump_bytes),
    dumpPath: str(r.dump_path),
    logPath: str(r.log_path),
    rolesPath: str(r.roles_path),
    configPath: str(r.config_path),
    sha256: r.sha256 ?? null,
    pgDumpVersion: str(r.pg_dump_version),
    serverVersion: str(r.server_version),
    databaseBytes: num(r.database_bytes),
    retention: r.retention ?? null,
    error: str(r.error),
    deletedAt: time(r.deleted_at),
    deletion: (r.deletion ?? null) as BackupRun['deletion'],
    deletedReason: str(r.deleted_reason),
    pin:
      r.pinned_at === null || r.pinned_at === undefined
        ? null
        : { at: time(r.pinned_at) as string, by: String(r.pinned_by), reason: str(r.pin_reason) },
    verifiedAt: time(r.verified_at),
    verifyStatus: str(r.verify_status),
    verifyError: str(r.verify_error),
    tableEstimates: (json(r.table_estimates) ?? null) as BackupRun['tableEstimates'],
    sourceSystemIdentifier: str(r.source_system_identifier),
    restoreVerifiedAt: time(r.restore_verified_at),
    restoreVerifyStatus: (r.restore_verify_status ?? null) as BackupRun['restoreVerifyStatus'],
    restoreVerifyDetails: json(r.restore_verify_details) ?? null,
    revision: str(r.revision),
    missed: (r.missed ?? null) as string[] | null,
    encryption: (json(r.encryption) ?? null) as DumpEncryption | null,
    rootCopy: (r.root_copy ?? 'KEPT') as BackupRun['rootCopy'],
  };
}

/** A definition's (or snapshot's) newest success, and its newest failure after that success. */
export interface LastRuns {
  readonly kind: 'BackupDefinition' | 'SnapshotDefinition';
  readonly name: string;
  readonly lastSuccess: { readonly id: string; readonly at: string; readonly bytes: number | null } | null;
  readonly lastFailure: { readonly id: string; readonly at: string; readonly error: string | null } | null;
}

// Two probes per definition on (definition|snapshot, started_at desc); the failure probe stops at the last
// success, so a definition with a long history costs no more than a new one.
const lastRunsOf = (table: string, column: string, kind: string) => `
  select '${kind}' as kind, d.name, s.id::text as success_id, s.at as success_at, s.dump_bytes::text as success_bytes,
         f.id::text as failure_id, f.at as failure_at, f.error as failure_error
    from pgbackman.${table} d
    left join lateral (
      select r.id, r.started_at, coalesce(r.finished_at, r.started_at) as at, r.dump_bytes from pgbackman.backup_runs r
       where r.${column} = d.name and r.status in ('SUCCEEDED', 'SUCCEEDED_PARTIAL') order by r.started_at desc limit 1) s on true
    left join lateral (
      select r.id, coalesce(r.finished_at, r.started_at) as at, r.error from pgbackman.backup_runs r
       where r.${column} = d.name and r.status = 'FAILED' and r.started_at > coalesce(s.started_at, '-infinity')
       order by r.started_at desc limit 1) f on true
   where d.server = coalesce($1::text, d.server)`;

/** The last runs of every backup definition and snapshot (of one server), in one statement. */
export async function lastRuns(q: Queryable, filter: { readonly server?: string } = {}): Promise<LastRuns[]> {
  const rows = await q.query<Record<string, unknown>>(
    `${lastRunsOf('backup_definitions', 'definition', 'BackupDefinition')}
     union all
     ${lastRunsOf('snapshot_definitions', 'snapshot', 'SnapshotDefinition')}`,
    [filter.server ?? null],
  );
  const time = (v: unknown) => new Date(v as string).toISOString();
  return rows.map((r) => ({
    kind: r.kind as LastRuns['kind'],
    name: String(r.name),
    lastSuccess:
      r.success_id === null
        ? null
        : {
            id: String(r.success_id),
            at: time(r.success_at),
            bytes: r.success_bytes === null ? null : Number(r.success_bytes),
          },
    lastFailure:
      r.failure_id === null
        ? null
        : {
            id: String(r.failure_id),
            at: time(r.failure_at),
            error: r.failure_error === null ? null : String(r.failure_error),
          },
  }));
}
