import { hostname } from 'node:os';
import { join } from 'node:path';
import { PgbackmanError } from '../../errors.ts';
import { readLockFile, takeLockFile } from '../../system/lock-file.ts';
import { processAlive } from '../../system/process-alive.ts';
import { ensureOwnDirs } from './own-dirs.ts';

interface RunHolder {
  readonly host: string;
  readonly pid: number;
  readonly since: string;
}

/**
 * One run of a definition at a time on this server: a second is refused, never interleaved. `key` names the
 * lock file; `address` (Kind/name) is what the refusal names.
 */
export function acquireRunLock(root: string, key: string, address: string = key): () => void {
  const file = join(ensureOwnDirs(root, '.locks'), `${key}.lock`);
  const mine: RunHolder = { host: hostname(), pid: process.pid, since: new Date().toISOString() };
  return takeLockFile(file, mine, {
    refuse(holder) {
      // A holder on another host (a root on shared storage) cannot be checked from here: it is taken as alive.
      const elsewhere = holder.host !== undefined && holder.host !== hostname();
      if (holder.pid === undefined || !(elsewhere || processAlive(holder.pid))) return;
      const where = elsewhere ? ` on ${holder.host}` : '';
      throw new PgbackmanError(
        'RUN_LOCKED',
        `${address} is already running (pid ${holder.pid}${where}, since ${holder.since ?? 'unknown'}); a definition never runs twice at once${elsewhere ? ` (if that host is gone, remove ${file})` : ''}`,
      );
    },
    busy: () => new PgbackmanError('RUN_LOCKED', `cannot take the run lock ${file}`),
  });
}

/**
 * Whether a run of the definition `key` is under way on this server now (its lock names a live process, or a
 * host that cannot be checked from here). Only looks: a copy pass asks it to leave alone the dump a run is
 * still copying and releasing, without ever keeping that definition's next run from starting.
 */
export function runLockHeld(root: string, key: string): boolean {
  const holder = readLockFile<RunHolder>(join(root, '.locks', `${key}.lock`));
  if (holder.pid === undefined) return false;
  return (holder.host !== undefined && holder.host !== hostname()) || processAlive(holder.pid);
}
