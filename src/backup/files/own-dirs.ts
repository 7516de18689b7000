import { type BigIntStats, lstatSync, mkdirSync, readlinkSync, type Stats, statSync } from 'node:fs';
import { join } from 'node:path';
import { PgbackmanError } from '../../errors.ts';

/**
 * Creates (or checks) `root` and each of `segments` below it, one directory at a time, and returns the
 * deepest. Every directory below the root must be a real directory (never a symbolic link) owned by the user
 * running pgbackman and writable by that user alone; the root itself may be a link, but what it points to
 * must pass the same owner checks. A link or a directory someone else controls would send a dump, a lock or
 * a record somewhere other than the root it is reported under, so it is refused before anything is written.
 */
export function ensureOwnDirs(root: string, ...segments: readonly string[]): string {
  mkdirSync(root, { recursive: true, mode: 0o700 });
  checkOwner(root, statSync(root), root);
  let path = root;
  for (const segment of segments) {
    path = join(path, segment);
    try {
      mkdirSync(path, { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const st = lstatSync(path);
    if (st.isSymbolicLink())
      throw new PgbackmanError(
        'UNSAFE',
        `${path} is a symbolic link (to ${readlinkSync(path)}); pgbackman writes only into real directories under the root ${root}, so nothing was written: replace the link with a directory`,
      );
    if (!st.isDirectory())
      throw new PgbackmanError(
        'UNSAFE',
        `${path} is not a directory; pgbackman needs a directory there under the root ${root}`,
      );
    checkOwner(path, st, root);
  }
  return path;
}

/**
 * Whether `root` and each of `segments` below it already exist and pass the checks of `ensureOwnDirs`, without
 * creating anything: for looking at another run's files, which are trusted only where this run would write.
 */
export function ownDirsExist(root: string, ...segments: readonly string[]): boolean {
  try {
    checkOwner(root, statSync(root), root);
    let path = root;
    for (const segment of segments) {
      path = join(path, segment);
      const st = lstatSync(path);
      if (st.isSymbolicLink()) return false;
      checkOwner(path, st, root);
    }
    return true;
  } catch {
    return false;
  }
}

/** The owner and mode checks alone, for a directory that is already there (the user's uid, no group/other write). */
function checkOwner(path: string, st: Stats | BigIntStats, root: string): void {
  if (!st.isDirectory()) throw new PgbackmanError('UNSAFE', `the root directory ${root} is not a directory`);
  const uid = process.getuid?.();
  if (uid !== undefined && Number(st.uid) !== uid)
    throw new PgbackmanError(
      'UNSAFE',
      `${path} is owned by uid ${st.uid}, not by uid ${uid} that runs pgbackman; a directory another user controls could redirect the dumps under ${root}: chown it to uid ${uid}`,
    );
  const mode = Number(st.mode) & 0o777;
  if ((mode & 0o022) !== 0)
    throw new PgbackmanError(
      'UNSAFE',
      `${path} is writable by its group or others (mode ${mode.toString(8).padStart(4, '0')}); anyone who can write there could redirect the dumps under ${root}: chmod go-w it`,
    );
}
