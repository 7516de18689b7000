import { type RunEnd, type RunStart, selectRunning } from '../../catalogue/backup-runs.ts';
import type { Queryable } from '../../catalogue/catalogue-db.ts';

export type { RunEnd, RunStart } from '../../catalogue/backup-runs.ts';
export { endValues, recordEnd, recordStart } from '../../catalogue/backup-runs.ts';

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
  const rows = await selectRunning(q, r);
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
