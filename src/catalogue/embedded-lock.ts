import { mkdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { PgbackmanError } from '../errors.ts';
import { readLockFile, takeLockFile } from '../system/lock-file.ts';
import { processAlive } from '../system/process-alive.ts';
import { removeSocketDir } from './socket-dir.ts';

export interface Holder {
  readonly pid: number;
  readonly command: string;
  readonly since: string;
  /** The directory of the Unix socket on which the holder serves the catalogue, when it does. */
  readonly socket?: string;
}

/** `<dir>.lock`, next to the catalogue directory. */
export function embeddedLockFile(dir: string): string {
  const path = resolve(dir);
  return join(dirname(path), `${basename(path)}.lock`);
}

/** `<dir>.sock`, next to the catalogue directory: the private directory of the served socket. */
export function embeddedSocketDir(dir: string): string {
  const path = resolve(dir);
  return join(dirname(path), `${basename(path)}.sock`);
}

/**
 * The embedded catalogue is one single-user PostgreSQL: two processes opening it would corrupt it.
 * A lock file names the holder (and the socket it serves the catalogue on, if any); a holder that died is
 * replaced, together with the socket directory it left, and a live one is reported.
 */
export function acquireEmbeddedLock(lockFile: string, command: string, socket?: string): () => void {
  mkdirSync(dirname(lockFile), { recursive: true, mode: 0o700 });
  const mine: Holder = {
    pid: process.pid,
    command,
    since: new Date().toISOString(),
    ...(socket === undefined ? {} : { socket }),
  };
  return takeLockFile(lockFile, mine, {
    refuse(holder) {
      if (holder.pid === undefined || !processAlive(holder.pid)) return;
      throw new PgbackmanError(
        'CATALOGUE_IN_USE',
        `the embedded catalogue ${lockFile.replace(/\.lock$/, '')} is in use by pid ${holder.pid} (${holder.command}) since ${holder.since}; wait for it to finish, stop it, or use a PostgreSQL catalogue (--catalogue postgres://...)`,
      );
    },
    busy: () => new PgbackmanError('CATALOGUE_IN_USE', `cannot take the lock ${lockFile}`),
    // Only the socket directory we would make is removed, whatever a lock file says.
    onStale(stale) {
      if (stale.socket !== undefined && stale.socket === lockFile.replace(/\.lock$/, '.sock'))
        removeSocketDir(stale.socket);
    },
  });
}

/** Who holds the lock, if its file can be read. */
export function readHolder(file: string): Holder | undefined {
  const holder = readLockFile<Holder>(file);
  return holder.pid === undefined ? undefined : (holder as Holder);
}
