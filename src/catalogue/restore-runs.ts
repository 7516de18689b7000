import type { Queryable } from './catalogue-db.ts';

// Every statement on pgbackman.restore_runs: a restore's start and end, the listing `get restores` reads and
// the one run `describe restore` shows.

export interface RestoreStart {
  readonly id: string;
  readonly backupId: string | null;
  readonly restoreDefinition: string | null;
  readonly restoreGeneration: number | null;
  readonly server: string;
  readonly sourceNode: string;
  readonly sourceDatabase: string | null;
  readonly targetNode: string;
  readonly targetDatabase: string;
  readonly options: Record<string, unknown>;
  readonly startedAt: Date;
  readonly logPath: string | null;
  readonly requestedBy: string;
  readonly host: string;
  readonly pid: number;
}

export interface RestoreEnd {
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly finishedAt: Date;
  readonly steps: readonly unknown[];
  readonly renamedTo: string | null;
  readonly error: string | null;
}

export interface RestoreRun extends RestoreStart {
  readonly status: 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  readonly finishedAt: Date | null;
  readonly durationMs: number | null;
  readonly steps: readonly unknown[] | null;
  readonly renamedTo: string | null;
  readonly error: string | null;
}

export async function recordRestoreStart(q: Queryable, r: RestoreStart): Promise<void> {
  await q.query(
    `insert into pgbackman.restore_runs (id, backup_id, restore_definition, server, source_node, source_database,
            target_node, target_database, options, status, started_at, log_path, requested_by, host, pid, restore_generation)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'RUNNING', $10, $11, $12, $13, $14, $15)`,
    [
      r.id,
      r.backupId,
      r.restoreDefinition,
      r.server,
      r.sourceNode,
      r.sourceDatabase,
      r.targetNode,
      r.targetDatabase,
      JSON.stringify(r.options),
      r.startedAt.toISOString(),
      r.logPath,
      r.requestedBy,
      r.host,
      r.pid,
      r.restoreGeneration,
    ],
  );
}

/**
 * A RestoreDefinition's restore that could not start (no dump to restore, a refusal): recorded FAILED at
 * once, so the agent does not try that generation again and `get restores` says why.
 */
export async function recordRestoreNotStarted(q: Queryable, r: RestoreStart, error: string): Promise<void> {
  await recordRestoreStart(q, r);
  await recordRestoreEnd(q, r.id, r.startedAt, {
    status: 'FAILED',
    finishedAt: r.startedAt,
    steps: [],
    renamedTo: null,
    error,
  });
}

/** The generations of these RestoreDefinitions that have a restore run already (any outcome): each runs once. */
export async function restoredGenerations(q: Queryable, names: readonly string[]): Promise<Set<string>> {
  const rows = await q.query<{ key: string }>(
    `select distinct restore_definition || '@' || restore_generation as key from pgbackman.restore_runs
      where restore_definition = any($1::text[]) and restore_generation is not null`,
    [names],
  );
  return new Set(rows.map((r) => r.key));
}

export async function recordRestoreEnd(
  q: Queryable,
  id: string,
  startedAt: Date,
  e: RestoreEnd,
): Promise<void> {
  await q.query(
    `update pgbackman.restore_runs set status = $2, finished_at = $3, duration_ms = $4, steps = $5, renamed_to = $6,
            error = $7
      where id = $1 and status = 'RUNNING'`,
    [
      id,
      e.status,
      e.finishedAt.toISOString(),
      e.finishedAt.getTime() - startedAt.getTime(),
      JSON.stringify(e.steps),
      e.renamedTo,
      e.error,
    ],
  );
}

export interface RestoreFilter {
  readonly id?: string;
  readonly node?: string;
  readonly database?: string;
  readonly status?: string;
  readonly limit?: number;
}

/** Newest first. `id` matches a prefix, as ids are shown by their first 8 characters. */
export async function listRestores(q: Queryable, f: RestoreFilter = {}): Promise<RestoreRun[]> {
  const rows = await q.query<Record<string, unknown>>(
    `select id::text, backup_id::text, restore_definition, restore_generation::float8 as restore_generation, server, source_node, source_database, target_node,
            target_database, options, status, started_at, finished_at, duration_ms::float8 as duration_ms, steps,
            renamed_to, log_path, error, requested_by, host, pid
       from pgbackman.restore_runs
      where ($1::text is null or id::text like $1 || '%')
        and ($2::text is null or target_node = $2)
        and ($3::text is null or target_database = $3)
        and ($4::text is null or status = $4)
      order by started_at desc, id
      limit $5`,
    [f.id ?? null, f.node ?? null, f.database ?? null, f.status ?? null, f.limit ?? 100],
  );
  return rows.map((r) => ({
    id: r.id as string,
    backupId: (r.backup_id as string | null) ?? null,
    restoreDefinition: (r.restore_definition as string | null) ?? null,
    restoreGeneration: (r.restore_generation as number | null) ?? null,
    server: r.server as string,
    sourceNode: r.source_node as string,
    sourceDatabase: (r.source_database as string | null) ?? null,
    targetNode: r.target_node as string,
    targetDatabase: r.target_database as string,
    options: parseJson(r.options) as Record<string, unknown>,
    status: r.status as RestoreRun['status'],
    startedAt: new Date(r.started_at as string),
    finishedAt: r.finished_at === null ? null : new Date(r.finished_at as string),
    durationMs: (r.duration_ms as number | null) ?? null,
    steps: r.steps === null ? null : (parseJson(r.steps) as unknown[]),
    renamedTo: (r.renamed_to as string | null) ?? null,
    logPath: (r.log_path as string | null) ?? null,
    error: (r.error as string | null) ?? null,
    requestedBy: r.requested_by as string,
    host: r.host as string,
    pid: r.pid as number,
  }));
}

// pg parses jsonb; PGlite over the socket may hand it over as text.
function parseJson(v: unknown): unknown {
  return typeof v === 'string' ? JSON.parse(v) : v;
}
