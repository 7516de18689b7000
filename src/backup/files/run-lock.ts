import { linkSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { PgbackmanError } from '../../errors.ts';
import { processAlive } from '../../system/process-alive.ts';
import { ensureOwnDirs } from './own-dirs.ts';

/**
 * One run of a definition at a time on this server: a second is refused, never interleaved. `key` names the
 * lock file; `address` (Kind/name) is what the refusal names.
 */
export function acquireRunLock(root: string, key: string, address: string = key): () => void {
  const dir = ensureOwnDirs(root, '.locks');
  const file = join(dir, `${key}.lock`);
  // Written whole under a private name, then linked into place: the lock never exists half-written.
  const mine = join(dir, `.${key}.${process.pid}.tmp`);
  writeFileSync(
    mine,
    JSON.stringify({ host: hostname(), pid: process.pid, since: new Date().toISOString() }),
    {
      mode: 0o600,
    },
  );
  try {
    return take(file, mine, address);
  } finally {
    rmSync(mine, { force: true });
  }
}

function take(file: string, mine: string, address: string): () => void {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      linkSync(mine, file);
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let holder: { host?: string; pid?: number; since?: string } = {};
      try {
        holder = JSON.parse(readFileSync(file, 'utf8'));
      } catch {
        // unreadable: treat as stale
      }
      // A holder on another host (a root on shared storage) cannot be checked from here: it is taken as alive.
      const elsewhere = holder.host !== undefined && holder.host !== hostname();
      if (holder.pid !== undefined && (elsewhere || processAlive(holder.pid))) {
        const where = elsewhere ? ` on ${holder.host}` : '';
        throw new PgbackmanError(
          'RUN_LOCKED',
          `${address} is already running (pid ${holder.pid}${where}, since ${holder.since ?? 'unknown'}); a definition never runs twice at once${elsewhere ? ` (if that host is gone, remove ${file})` : ''}`,
        );
      }
      removeStale(file, holder);
    }
  }
  throw new PgbackmanError('RUN_LOCKED', `cannot take the run lock ${file}`);
}

/**
 * Takes a stale lock away by renaming it to a private name (one process wins the rename), then checks that
 * what it moved is the lock it judged stale: a fresh lock another process took meanwhile is put back.
 */
function removeStale(file: string, judged: { pid?: number; since?: string }): void {
  const grave = `${file}.stale-${process.pid}`;
  try {
    renameSync(file, grave);
  } catch {
    return; // another process took it over first: try again
  }
  let moved: { pid?: number; since?: string } = {};
  try {
    moved = JSON.parse(readFileSync(grave, 'utf8'));
  } catch {
    // unreadable, as judged
  }
  if (moved.pid !== judged.pid || moved.since !== judged.since) {
    try {
      linkSync(grave, file);
    } catch {
      // someone holds the lock now; their run goes on
    }
  }
  rmSync(grave, { force: true });
}
