import { linkSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { PgbackmanError } from '../errors.ts';

/** What a lock file names: the process that holds it and since when, and whatever else the lock adds. */
export interface LockHolder {
  readonly pid?: number;
  readonly since?: string;
}

export interface LockFileRules<H extends LockHolder> {
  /** Throws to refuse the lock `current` holds (`{}` when unreadable); returns when `current` is stale. */
  readonly refuse: (current: Partial<H>) => void;
  /** The error when the lock changed hands every time it was looked at. */
  readonly busy: () => PgbackmanError;
  /** Called with a stale holder once its lock is moved aside (it is removed after). */
  readonly onStale?: (stale: Partial<H>) => void;
}

/**
 * Takes the lock `file` for `holder` and returns its release. Written whole under a private name, then
 * linked into place: the lock never exists half-written, and linking fails if it exists.
 */
export function takeLockFile<H extends LockHolder>(
  file: string,
  holder: H,
  rules: LockFileRules<H>,
): () => void {
  const mine = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  writeFileSync(mine, `${JSON.stringify(holder)}\n`, { mode: 0o600 });
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        linkSync(mine, file);
        return () => rmSync(file, { force: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const current = readLockFile<H>(file);
      rules.refuse(current);
      removeStale(file, current, rules.onStale);
    }
  } finally {
    rmSync(mine, { force: true });
  }
  throw rules.busy();
}

/** The holder a lock file names; `{}` when it cannot be read. */
export function readLockFile<H extends LockHolder>(file: string): Partial<H> {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Partial<H>;
  } catch {
    return {};
  }
}

/**
 * Takes a stale lock away by renaming it to a private name (one process wins the rename), then checks that
 * what it moved is the lock it judged stale: a fresh lock another process took meanwhile is put back.
 */
function removeStale<H extends LockHolder>(
  file: string,
  judged: Partial<H>,
  onStale: ((stale: Partial<H>) => void) | undefined,
): void {
  const grave = `${file}.stale-${process.pid}`;
  try {
    renameSync(file, grave);
  } catch {
    return; // another process took it over first: try again
  }
  const moved = readLockFile<H>(grave);
  if (moved.pid !== judged.pid || moved.since !== judged.since) {
    try {
      linkSync(grave, file);
    } catch {
      // someone holds the lock now; they go on
    }
  } else onStale?.(moved);
  rmSync(grave, { force: true });
}
