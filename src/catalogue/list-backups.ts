import type { Queryable } from './catalogue-db.ts';

export const RUN_STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED'] as const;
export const VERIFY_STATUSES = ['OK', 'CORRUPT', 'MISSING'] as const;

/** One catalogued dump, as `get backups` and `describe backup` show it. */
export interface BackupRun {
  readonly id: string;
  readonly status: 'RUNNING' | 'SUCCEEDED' | 'FAILED';
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
  readonly verifiedAt: string | null;
  readonly verifyStatus: string | null;
  readonly verifyError: string | null;
}

export interface BackupFilter {
  readonly id?: string;
  readonly server?: string;
  readonly node?: string;
  readonly database?: string;
  readonly definition?: string;
  readonly snapshot?: string;
  readonly status?: string;
  /** A verify result, or NONE for dumps never verified. */
  readonly verify?: string;
  readonly since?: Date;
  readonly limit?: number;
}

const COLUMNS = `id::text, status, server, node, database, code, definition, snapshot, started_at, finished_at,
  duration_ms::text, dump_bytes::text, dump_path, log_path, roles_path, config_path, sha256, pg_dump_version,
  server_version, database_bytes::text, retention, error, deleted_at, verified_at, verify_status, verify_error`;

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
  if (filter.status !== undefined) add('status = ?', filter.status.toUpperCase());
  if (filter.verify === 'NONE') where.push('verify_status is null');
  else if (filter.verify !== undefined) add('verify_status = ?', filter.verify);
  if (filter.since !== undefined) add('started_at >= ?', filter.since.toISOString());
  params.push(filter.limit ?? 100);
  const rows = await q.query<Record<string, unknown>>(
    `select ${COLUMNS} from pgbackman.backup_runs ${where.length > 0 ? `where ${where.join(' and ')}` : ''}
      order by started_at desc limit $${params.length}`,
    params,
  );
  return rows.map(toRun);
}

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
    verifiedAt: time(r.verified_at),
    verifyStatus: str(r.verify_status),
    verifyError: str(r.verify_error),
  };
}
