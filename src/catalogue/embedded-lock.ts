import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { PgbackmanError } from '../errors.ts';
import { processAlive } from '../system/process-alive.ts';

interface Holder {
  readonly pid: number;
  readonly command: string;
  readonly since: string;
}

/**
 * The embedded catalogue is one single-user PostgreSQL: two processes opening it would corrupt it.
 * A lock file names the holder; a holder that died is replaced, a live one is reported.
 */
export function acquireEmbeddedLock(lockFile: string, command: string): () => void {
  mkdirSync(dirname(lockFile), { recursive: true, mode: 0o700 });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockFile, 'wx', 0o600);
      const holder: Holder = { pid: process.pid, command, since: new Date().toISOString() };
      writeSync(fd, `${JSON.stringify(holder)}\n`);
      closeSync(fd);
      return () => rmSync(lockFile, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = readHolder(lockFile);
      if (holder !== undefined && processAlive(holder.pid)) {
        throw new PgbackmanError(
          'CATALOGUE_IN_USE',
          `the embedded catalogue ${dirname(lockFile)} is in use by pid ${holder.pid} (${holder.command}) since ${holder.since}; wait for it to finish, stop it, or use a PostgreSQL catalogue (--catalogue postgres://...)`,
        );
      }
      rmSync(lockFile, { force: true }); // its holder is gone: the lock is stale
    }
  }
  throw new PgbackmanError('CATALOGUE_IN_USE', `cannot take the lock ${lockFile}`);
}

function readHolder(file: string): Holder | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Holder;
  } catch {
    return undefined;
  }
}
