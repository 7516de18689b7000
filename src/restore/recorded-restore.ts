import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ensureOwnDirs } from '../backup/files/own-dirs.ts';
import type { Queryable } from '../catalogue/catalogue-db.ts';
import { type RestoreStart, recordRestoreEnd, recordRestoreStart } from '../catalogue/restore-runs.ts';
import { messageOf, PgbackmanError } from '../errors.ts';
import { whoAmI } from '../system/who-am-i.ts';

/** One step as it is taken: what it is (for the log and the record) and what it does. */
export interface TakenStep {
  readonly summary: string;
  readonly take: (logPath: string) => Promise<void>;
  /** The name an existing database keeps after this step (a rename). */
  readonly renamedTo?: { readonly from: string; readonly to: string };
  /** The database this step creates (so a failure after it says that it is only partly restored). */
  readonly creates?: string;
  /** This step creates and fills a database at once (a CLUSTER section): a failure in it leaves it partly restored. */
  readonly fills?: string;
  /** What this step had changed when it failed (a step of many changes: the databases of a CLUSTER dump). */
  readonly changed?: () => readonly string[];
}

export type RestoreRecord = Omit<
  RestoreStart,
  'id' | 'startedAt' | 'logPath' | 'requestedBy' | 'host' | 'pid'
>;

/**
 * Records the restore RUNNING, takes its steps in order with a log under `<root>/.restores/`, and records how
 * it ended. A failure part-way is RESTORE_FAILED saying exactly what the target holds.
 */
export async function runRecorded(
  catalogue: Queryable,
  record: RestoreRecord,
  root: string,
  steps: readonly TakenStep[],
  signal?: AbortSignal,
): Promise<{ readonly id: string; readonly logPath: string; readonly renamed: readonly string[] }> {
  const id = randomUUID();
  const startedAt = new Date();
  const stamp = startedAt
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const logPath = join(ensureOwnDirs(root, '.restores'), `${stamp}-${id.slice(0, 8)}.log`);
  await recordRestoreStart(catalogue, {
    ...record,
    id,
    startedAt,
    logPath,
    requestedBy: whoAmI(),
    host: hostname(),
    pid: process.pid,
  });
  const done: TakenStep[] = [];
  const log = createWriteStream(logPath, { flags: 'a', mode: 0o600 });
  log.on('error', () => undefined);
  const renamed = () => done.flatMap((s) => (s.renamedTo === undefined ? [] : [s.renamedTo]));
  try {
    for (const step of steps) {
      signal?.throwIfAborted();
      log.write(`-- ${step.summary}\n`);
      await step.take(logPath);
      done.push(step);
    }
  } catch (err) {
    const error = `${messageOf(signal?.aborted ? (signal.reason ?? err) : err)}\n${stateAfter(done, steps[done.length])}`;
    log.end(`-- FAILED: ${error}\n`);
    await recordRestoreEnd(catalogue, id, startedAt, {
      status: 'FAILED',
      finishedAt: new Date(),
      steps: done.map((s) => s.summary),
      renamedTo:
        renamed()
          .map((r) => r.to)
          .join(', ') || null,
      error,
    }).catch(() => undefined);
    throw new PgbackmanError('RESTORE_FAILED', `restore ${id.slice(0, 8)} failed: ${error}`, { cause: err });
  }
  log.end('-- SUCCEEDED\n');
  await recordRestoreEnd(catalogue, id, startedAt, {
    status: 'SUCCEEDED',
    finishedAt: new Date(),
    steps: done.map((s) => s.summary),
    renamedTo:
      renamed()
        .map((r) => r.to)
        .join(', ') || null,
    error: null,
  });
  return { id, logPath, renamed: renamed().map((r) => r.to) };
}

/** What the target holds after a failure, so the operator knows exactly what to clean up or keep. */
function stateAfter(done: readonly TakenStep[], failed: TakenStep | undefined): string {
  const partly = failed?.changed?.() ?? [];
  const parts = [
    done.length === 0 && partly.length === 0
      ? 'nothing on the target was changed'
      : [
          ...(done.length === 0 ? [] : [`done before the failure: ${done.map((s) => s.summary).join('; ')}`]),
          ...(partly.length === 0 ? [] : [`changed by the step that failed: ${partly.join('; ')}`]),
        ].join('. '),
  ];
  const created = [...done.flatMap((s) => [s.creates, s.fills]), failed?.fills].filter(
    (d): d is string => d !== undefined,
  );
  for (const db of new Set(created)) parts.push(`database "${db}" exists and is only partly restored`);
  for (const s of done)
    if (s.renamedTo !== undefined)
      parts.push(`the previous "${s.renamedTo.from}" is kept as "${s.renamedTo.to}"`);
  return parts.join('. ');
}
