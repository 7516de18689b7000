import { closeSync, constants, fstatSync, openSync, readSync, realpathSync, type Stats } from 'node:fs';
import { sep } from 'node:path';
import { messageOf, PgbackmanError } from '../../errors.ts';

/** Where password files may live unless the operator says otherwise (--secrets-dir, PGBACKMAN_SECRETS_DIR). */
export const DEFAULT_SECRETS_DIR = '/etc/pgbackman/secrets';

/** A password file may hold at most this many bytes: a password, not /dev/zero. */
export const MAX_PASSWORD_FILE_BYTES = 4096;

/** Why a password file's status makes it unfit to hold a secret, or undefined when it is fit. Pure. */
export function passwordFileProblem(
  st: Pick<Stats, 'mode' | 'uid' | 'size' | 'isFile'>,
  uid: number,
): string | undefined {
  if (!st.isFile()) return 'it is not a regular file';
  if (st.uid !== uid) return `it is owned by uid ${st.uid}, not by this process's user (uid ${uid})`;
  if ((st.mode & 0o077) !== 0)
    return `its mode is ${(st.mode & 0o777).toString(8).padStart(4, '0')}; group and others must have no access (chmod 0600)`;
  if (st.size > MAX_PASSWORD_FILE_BYTES)
    return `it holds ${st.size} bytes, more than ${MAX_PASSWORD_FILE_BYTES}`;
  return undefined;
}

/**
 * Reads a secret file (a node's password, a destination's key), only from inside the operator's secrets directory (after resolving
 * symlinks), only when it is a small regular file of this process's user that nobody else can read.
 */
export function readPasswordFile(
  file: string,
  secretsDir: string,
  what = "the node's password file",
): string {
  const refuse = (why: string) => new PgbackmanError('UNSAFE', `refusing ${what} ${file}: ${why}`);
  let real: string;
  let dir: string;
  try {
    dir = realpathSync(secretsDir);
  } catch (err) {
    throw refuse(
      `the secrets directory ${secretsDir} cannot be used (${messageOf(err)}); create it (mode 0700) or point --secrets-dir / PGBACKMAN_SECRETS_DIR at the directory holding password files`,
    );
  }
  try {
    real = realpathSync(file);
  } catch (err) {
    throw new PgbackmanError('IO', `cannot read ${what} ${file}: ${messageOf(err)}`);
  }
  if (!real.startsWith(dir.endsWith(sep) ? dir : dir + sep))
    throw refuse(
      `it is not inside the secrets directory ${secretsDir}; move it there, or start pgbackman with --secrets-dir (or PGBACKMAN_SECRETS_DIR) naming the directory that holds it`,
    );
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO planted under that name must not block the open.
    fd = openSync(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    throw new PgbackmanError('IO', `cannot read ${what} ${file}: ${messageOf(err)}`);
  }
  try {
    const problem = passwordFileProblem(fstatSync(fd), process.getuid?.() ?? 0);
    if (problem !== undefined) throw refuse(problem);
    // Never more than the cap plus one byte, whatever the file claims to hold.
    const buf = Buffer.alloc(MAX_PASSWORD_FILE_BYTES + 1);
    let n = 0;
    for (let r = 1; r > 0 && n < buf.length; n += r) r = readSync(fd, buf, n, buf.length - n, null);
    if (n > MAX_PASSWORD_FILE_BYTES) throw refuse(`it holds more than ${MAX_PASSWORD_FILE_BYTES} bytes`);
    return buf
      .subarray(0, n)
      .toString('utf8')
      .replace(/\r?\n$/, '');
  } catch (err) {
    if (err instanceof PgbackmanError) throw err;
    throw new PgbackmanError('IO', `cannot read ${what} ${file}: ${messageOf(err)}`);
  } finally {
    closeSync(fd);
  }
}
