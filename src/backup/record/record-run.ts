import type { Queryable } from '../../catalogue/catalogue-db.ts';

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
}

export interface RunEnd {
  readonly status: 'SUCCEEDED' | 'FAILED';
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
}

export async function recordStart(q: Queryable, r: RunStart): Promise<void> {
  await q.query(
    `insert into pgbackman.backup_runs (id, server, node, database, code, definition, snapshot, status, started_at, retention,
            host, pid)
     values ($1, $2, $3, $4, $5, $6, $7, 'RUNNING', $8, $9, $10, $11)`,
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
    ],
  );
}

export async function recordEnd(q: Queryable, id: string, startedAt: Date, e: RunEnd): Promise<void> {
  await q.query(
    `update pgbackman.backup_runs set status = $2, finished_at = $3, duration_ms = $4, dump_bytes = $5, dump_path = $6,
            log_path = $7, roles_path = $8, config_path = $9, sha256 = $10, pg_dump_version = $11, server_version = $12,
            database_bytes = $13, error = $14
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
  ];
}

/** The end of a run that left no dump, with whatever it had learnt before failing. */
export function failedEnd(
  finishedAt: Date,
  error: string,
  known: Pick<RunEnd, 'pgDumpVersion' | 'serverVersion' | 'databaseBytes'> = {
    pgDumpVersion: null,
    serverVersion: null,
    databaseBytes: null,
  },
): RunEnd {
  return {
    status: 'FAILED',
    finishedAt,
    dumpBytes: null,
    dumpPath: null,
    logPath: null,
    rolesPath: null,
    configPath: null,
    sha256: null,
    ...known,
    error,
  };
}

/** A run that was recorded RUNNING and whose process stopped before recording its end. */
export interface InterruptedRun {
  readonly id: string;
  readonly node: string;
  readonly database: string | null;
  readonly code: string;
  readonly startedAt: Date;
}

/**
 * The earlier runs of the same definition that are still RUNNING although the process taking them, on this
 * host, is gone (a run from another host is never judged from here). Read-only: the caller recovers them.
 */
export async function findInterrupted(
  q: Queryable,
  r: RunStart,
  alive: (pid: number) => boolean,
): Promise<InterruptedRun[]> {
  const rows = await q.query<{
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
  return rows
    .filter((row) => row.host === null || (row.host === r.host && (row.pid === null || !alive(row.pid))))
    .map((row) => ({
      id: row.id,
      node: row.node,
      database: row.database,
      code: row.code,
      startedAt: new Date(Number(row.started_ms)),
    }));
}
