import { linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { PgbackmanError } from '../errors.ts';
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
  // Written whole, then linked into place: the lock never exists half-written, and linking fails if it exists.
  const draft = `${lockFile}.${process.pid}.new`;
  writeFileSync(draft, `${JSON.stringify(mine)}\n`, { mode: 0o600 });
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        linkSync(draft, lockFile);
        return () => rmSync(lockFile, { force: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const holder = readHolder(lockFile);
      if (holder !== undefined && processAlive(holder.pid))
        throw new PgbackmanError(
          'CATALOGUE_IN_USE',
          `the embedded catalogue ${lockFile.replace(/\.lock$/, '')} is in use by pid ${holder.pid} (${holder.command}) since ${holder.since}; wait for it to finish, stop it, or use a PostgreSQL catalogue (--catalogue postgres://...)`,
        );
      removeStale(lockFile);
    }
  } finally {
    rmSync(draft, { force: true });
  }
  throw new PgbackmanError('CATALOGUE_IN_USE', `cannot take the lock ${lockFile}`);
}

/**
 * Moves a dead holder's lock aside (atomically: of two processes removing it, one gets it) with the socket
 * directory it served, if it is the one we would make. A lock that turns out to be a live process's new one,
 * taken between our look and the move, is linked back.
 */
function removeStale(lockFile: string): void {
  const aside = `${lockFile}.${process.pid}.stale`;
  try {
    renameSync(lockFile, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  try {
    const moved = readHolder(aside);
    if (moved !== undefined && processAlive(moved.pid)) {
      try {
        linkSync(aside, lockFile);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    } else if (moved?.socket !== undefined && moved.socket === lockFile.replace(/\.lock$/, '.sock')) {
      removeSocketDir(moved.socket);
    }
  } finally {
    rmSync(aside, { force: true });
  }
}

/** Who holds the lock, if its file can be read. */
export function readHolder(file: string): Holder | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Holder;
  } catch {
    return undefined;
  }
}
