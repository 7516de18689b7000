import type { Queryable } from '../catalogue/catalogue-db.ts';

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
    `insert into pgbackman.backup_runs (id, server, node, database, code, definition, snapshot, status, started_at, retention)
     values ($1, $2, $3, $4, $5, $6, $7, 'RUNNING', $8, $9)`,
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
    ],
  );
}

export async function recordEnd(q: Queryable, id: string, startedAt: Date, e: RunEnd): Promise<void> {
  await q.query(
    `update pgbackman.backup_runs set status = $2, finished_at = $3, duration_ms = $4, dump_bytes = $5, dump_path = $6,
            log_path = $7, roles_path = $8, config_path = $9, sha256 = $10, pg_dump_version = $11, server_version = $12,
            database_bytes = $13, error = $14
      where id = $1`,
    [
      id,
      e.status,
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
    ],
  );
}

/** A run that was recorded RUNNING and whose process stopped before recording its end. */
export interface InterruptedRun {
  readonly id: string;
  readonly node: string;
  readonly database: string | null;
  readonly code: string;
  readonly startedAt: Date;
}

export const INTERRUPTED =
  'interrupted: the process taking this dump stopped before it finished (found by the next run of its definition)';

/**
 * Closes the earlier runs of the same definition that are still RUNNING: the caller holds the definition's
 * run lock, so no live process is taking them. They become FAILED, and the caller removes their partial files.
 */
export async function closeInterrupted(q: Queryable, r: RunStart): Promise<InterruptedRun[]> {
  const rows = await q.query<{
    id: string;
    node: string;
    database: string | null;
    code: string;
    started_at: string;
  }>(
    `update pgbackman.backup_runs set status = 'FAILED', finished_at = now(), error = $5
      where status = 'RUNNING' and server = $1 and definition is not distinct from $2
        and snapshot is not distinct from $3 and id <> $4
      returning id::text, node, database, code, (extract(epoch from started_at) * 1000)::bigint::text as started_at`,
    [r.server, r.definition, r.snapshot, r.id, INTERRUPTED],
  );
  return rows.map((row) => ({
    id: row.id,
    node: row.node,
    database: row.database,
    code: row.code,
    startedAt: new Date(Number(row.started_at)),
  }));
}
