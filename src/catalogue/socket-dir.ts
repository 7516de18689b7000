import { chmodSync, lstatSync, mkdirSync, rmSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { PgbackmanError } from '../errors.ts';

// libpq's default: `pg` with host=<socket directory> connects to <dir>/.s.PGSQL.5432.
export const SOCKET_PORT = 5432;

/** The socket file in the holder's socket directory. */
export function socketFile(socketDir: string): string {
  return join(socketDir, `.s.PGSQL.${SOCKET_PORT}`);
}

/**
 * The socket directory must be a real directory owned by this user and closed to everyone else: whoever
 * controls it could put another server in the catalogue's place, or read what clients send.
 */
export function checkSocketDir(socketDir: string): void {
  let st: Stats;
  try {
    st = lstatSync(socketDir);
  } catch (err) {
    throw new PgbackmanError(
      'CATALOGUE_UNREACHABLE',
      `the catalogue's socket directory ${socketDir} is gone`,
      {
        cause: err,
      },
    );
  }
  const problem =
    ownerProblem(st) ?? ((st.mode & 0o077) !== 0 ? `others may use it (mode ${mode(st)})` : undefined);
  if (problem !== undefined)
    throw new PgbackmanError(
      'UNSAFE',
      `refusing the catalogue's socket directory ${socketDir}: ${problem}; it must be a directory of this user's with mode 0700 (remove it, and the holder makes it again)`,
    );
}

/** Makes `socketDir` 0700, or takes over the one this user left behind (its holder is gone: we hold the lock). */
export function makeSocketDir(socketDir: string): void {
  try {
    mkdirSync(socketDir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    // Never chmod through a link or someone else's directory: check what it is first.
    if (ownerProblem(lstatSync(socketDir)) === undefined) chmodSync(socketDir, 0o700);
  }
  checkSocketDir(socketDir);
  rmSync(socketFile(socketDir), { force: true });
}

/** Removes `socketDir` if it is this user's real directory; anything else is left for checkSocketDir to report. */
export function removeSocketDir(socketDir: string): void {
  try {
    if (ownerProblem(lstatSync(socketDir)) === undefined) rmSync(socketDir, { recursive: true, force: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

function ownerProblem(st: Stats): string | undefined {
  const uid = process.getuid?.();
  if (st.isSymbolicLink()) return 'it is a symbolic link';
  if (!st.isDirectory()) return 'it is not a directory';
  if (uid !== undefined && st.uid !== uid)
    return `it is owned by uid ${st.uid}, not by uid ${uid} that runs pgbackman`;
  return undefined;
}

function mode(st: Stats): string {
  return (st.mode & 0o777).toString(8).padStart(4, '0');
}
