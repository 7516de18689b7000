import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Queryable } from '../catalogue/catalogue-db.ts';
import type { RunEnd, RunStart } from './record-run.ts';
import { processAlive } from './run-lock.ts';

/** A run's record waiting for the catalogue: its start, and its end once known. */
export interface SpooledRun {
  readonly start: RunStart;
  readonly end: RunEnd | null;
  /** The process taking the run: a start without an end is only replayed once that process is gone. */
  readonly pid?: number;
}

export function spoolDir(root: string): string {
  return join(root, '.spool');
}

/** Writes (or rewrites) a run's record under `<root>/.spool/<id>.json`, atomically. */
export async function spoolRun(root: string, run: SpooledRun): Promise<void> {
  const dir = spoolDir(root);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, `${run.start.id}.json`);
  await writeFile(`${file}.tmp`, JSON.stringify(run), { mode: 0o600 });
  await rename(`${file}.tmp`, file);
}

/**
 * Sends every spooled record to the catalogue, each as an upsert keyed by the run id, then removes its
 * file: a replay that is interrupted and repeated records each run exactly once.
 */
export async function replaySpool(q: Queryable, root: string): Promise<number> {
  let files: string[];
  try {
    files = (await readdir(spoolDir(root))).filter((f) => f.endsWith('.json')).sort();
  } catch {
    return 0;
  }
  let sent = 0;
  for (const f of files) {
    const path = join(spoolDir(root), f);
    let run: SpooledRun;
    try {
      run = JSON.parse(await readFile(path, 'utf8')) as SpooledRun;
      if (typeof run?.start?.id !== 'string') throw new Error('no run id');
    } catch {
      // A torn or foreign file must not hold back every later record: kept aside for a human, not deleted.
      await rename(path, `${path}.unreadable`).catch(() => undefined);
      continue;
    }
    // Still being taken (by another process, or this one): its end will follow.
    if (run.end === null && run.pid !== undefined && processAlive(run.pid)) continue;
    await sendSpooled(q, run);
    await rm(path, { force: true });
    sent++;
  }
  return sent;
}

async function sendSpooled(q: Queryable, run: SpooledRun): Promise<void> {
  const s = run.start;
  const e = run.end;
  const started = new Date(s.startedAt);
  const finished = e === null ? null : new Date(e.finishedAt);
  await q.query(
    `insert into pgbackman.backup_runs (id, server, node, database, code, definition, snapshot, status, started_at, retention,
              finished_at, duration_ms, dump_bytes, dump_path, log_path, roles_path, config_path, sha256, pg_dump_version,
              server_version, database_bytes, error)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)
       on conflict (id) do update set status = excluded.status, finished_at = excluded.finished_at,
              duration_ms = excluded.duration_ms, dump_bytes = excluded.dump_bytes, dump_path = excluded.dump_path,
              log_path = excluded.log_path, roles_path = excluded.roles_path, config_path = excluded.config_path,
              sha256 = excluded.sha256, pg_dump_version = excluded.pg_dump_version, server_version = excluded.server_version,
              database_bytes = excluded.database_bytes, error = excluded.error`,
    [
      s.id,
      s.server,
      s.node,
      s.database,
      s.code,
      s.definition,
      s.snapshot,
      // A run whose end was never spooled was interrupted: it is recorded as failed, not left running.
      e?.status ?? 'FAILED',
      started.toISOString(),
      JSON.stringify(s.retention),
      finished?.toISOString() ?? null,
      finished === null ? null : finished.getTime() - started.getTime(),
      e?.dumpBytes ?? null,
      e?.dumpPath ?? null,
      e?.logPath ?? null,
      e?.rolesPath ?? null,
      e?.configPath ?? null,
      e?.sha256 === null || e === null ? null : JSON.stringify(e.sha256),
      e?.pgDumpVersion ?? null,
      e?.serverVersion ?? null,
      e?.databaseBytes ?? null,
      e === null ? 'interrupted before its end was recorded' : e.error,
    ],
  );
}
