import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { open, readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { type BackupRun, isGoodRun } from '../../catalogue/backup-runs.ts';
import { requireIdentity } from '../../encryption/read-encrypted.ts';
import { messageOf } from '../../errors.ts';
import { discoverPgBinDirs } from '../dump/pg-bin-dirs.ts';
import { BACKUP_MANIFEST } from '../files/backup-manifest.ts';
import { hashFile } from '../files/hashed-file.ts';
import { verifyPlaintext } from './verify-plaintext.ts';

const run = promisify(execFile);

export interface Verification {
  readonly id: string;
  readonly status: 'OK' | 'CORRUPT' | 'MISSING';
  readonly error: string | null;
  /** Files in the dump's folder that the run did not write (inside a directory-format dump, they make it CORRUPT). */
  readonly unexpected: readonly string[];
  /**
   * An encrypted dump's plaintext: CHECKED with a key given, NOT_CHECKED without one (or with one that does
   * not open it: `note` says which); null for a dump in plaintext.
   */
  readonly plaintext: 'CHECKED' | 'NOT_CHECKED' | null;
  readonly note: string | null;
}

export interface VerifyOptions {
  /** Stops reading (a restore refused while its dump was still being hashed); verifyRun then rejects. */
  readonly signal?: AbortSignal | undefined;
  /** age identities: an encrypted dump's plaintext is checked too. Without them only its stored bytes are. */
  readonly identities?: readonly string[];
}

/**
 * Written beside the dump by every run without a checksum in the catalogue: pg_dump's and the globals'
 * stderr, and backup.json (the folder's own description, which holds the checksums itself).
 */
const UNHASHED = ['dump.log', 'globals.log', BACKUP_MANIFEST];

/**
 * Re-hashes a dump's files against the checksums recorded when it was taken, and asks pg_restore to read
 * its table of contents (plain SQL: its header), so a dump that cannot be restored is found before it is needed.
 */
export async function verifyRun(b: BackupRun, options: VerifyOptions = {}): Promise<Verification> {
  const { signal } = options;
  const identities = options.identities ?? [];
  const sealed = b.encryption ?? null;
  let unexpected: string[] = [];
  let plaintext: Verification['plaintext'] = sealed === null ? null : 'NOT_CHECKED';
  let note: string | null =
    sealed === null
      ? null
      : 'encrypted: its stored bytes match; its plaintext was not checked (no --identity or PGBACKMAN_AGE_IDENTITY)';
  const fail = (status: 'CORRUPT' | 'MISSING', error: string): Verification => ({
    id: b.id,
    status,
    error,
    unexpected,
    plaintext,
    note: null,
  });
  const ok = (): Verification => ({ id: b.id, status: 'OK', error: null, unexpected, plaintext, note });
  if (b.dumpPath === null || !isGoodRun(b.status))
    return fail('MISSING', `the backup is ${b.status}, with no dump to verify`);
  const dumpPath = b.dumpPath;
  // pg_restore reads the table of contents on the other core while the files are hashed; a failed hash is
  // reported first, and stops it.
  const stopListing = new AbortController();
  const stop = () => stopListing.abort();
  signal?.addEventListener('abort', stop, { once: true });
  // An encrypted archive is listed through its plaintext, with a key, after its stored bytes are checked.
  const listing =
    dumpPath.endsWith('.sql') || sealed !== null ? undefined : listArchive(dumpPath, stopListing.signal);
  try {
    const hashed = await checkFiles(b, dirname(dumpPath), signal);
    if (hashed !== undefined) {
      unexpected = [...hashed.unexpected];
      return fail(hashed.status, hashed.error);
    }
    unexpected = await extraEntries(dirname(dumpPath), [...Object.keys(recordedOf(b)), ...UNHASHED]);
    if (sealed !== null) {
      if (identities.length === 0) return ok();
      try {
        await requireIdentity(b, identities);
      } catch (err) {
        note = `encrypted: its stored bytes match; its plaintext was not checked: ${messageOf(err).replace(/; nothing on the target was touched$/, '')}`;
        return ok();
      }
      const problem = await verifyPlaintext(
        dirname(dumpPath),
        basename(dumpPath),
        sealed,
        identities,
        signal,
      );
      if (problem !== undefined) return fail(problem.status, problem.error);
      plaintext = 'CHECKED';
      note = null;
      return ok();
    }
    const problem = await (listing ?? plainHeaderProblem(dumpPath));
    return problem === undefined ? ok() : fail(problem.status, problem.error);
  } finally {
    stop();
    signal?.removeEventListener('abort', stop);
  }
}

type Problem = { readonly status: 'CORRUPT' | 'MISSING'; readonly error: string };

const recordedOf = (b: BackupRun) => (b.sha256 ?? {}) as Record<string, string | Record<string, string>>;

/** Each recorded file re-hashed against its checksum: the first that is missing or differs, if any. */
async function checkFiles(
  b: BackupRun,
  dir: string,
  signal: AbortSignal | undefined,
): Promise<(Problem & { readonly unexpected: readonly string[] }) | undefined> {
  for (const [name, sum] of Object.entries(recordedOf(b))) {
    const files =
      typeof sum === 'string'
        ? { [name]: sum }
        : Object.fromEntries(Object.entries(sum).map(([f, s]) => [join(name, f), s]));
    for (const [file, expected] of Object.entries(files)) {
      const path = join(dir, file);
      if (!existsSync(path)) return { status: 'MISSING', error: `${path} is missing`, unexpected: [] };
      const { sha256 } = await hashFile(path, signal);
      if (sha256 !== expected)
        return {
          status: 'CORRUPT',
          error: `${path}: sha256 ${sha256} differs from the ${expected} recorded when it was taken`,
          unexpected: [],
        };
    }
    if (typeof sum !== 'string') {
      // pg_restore reads a directory-format dump's folder as a whole: a file added there is part of the dump.
      const inside = await extraEntries(join(dir, name), Object.keys(sum));
      if (inside.length > 0)
        return {
          status: 'CORRUPT',
          error: `${join(dir, name)} holds ${inside.length === 1 ? 'a file' : 'files'} pg_dump did not write when it was taken: ${inside.map((p) => basename(p)).join(', ')}`,
          unexpected: inside,
        };
    }
  }
  return undefined;
}

/** A plain SQL dump must start with pg_dump's header; only its first 4 KiB are read, whatever its size. */
async function plainHeaderProblem(path: string): Promise<Problem | undefined> {
  const handle = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(4096), 0, 4096, 0);
    const head = buffer.subarray(0, bytesRead).toString('utf8');
    return /^--\n-- PostgreSQL database (cluster )?dump/m.test(head)
      ? undefined
      : { status: 'CORRUPT', error: `${path} does not start with a PostgreSQL dump header` };
  } finally {
    await handle.close();
  }
}

/** pg_restore --list of an archive (custom, directory, tar): what it could not read, if anything. */
async function listArchive(path: string, signal: AbortSignal): Promise<Problem | undefined> {
  const bin = [...discoverPgBinDirs().entries()].sort(([a], [c]) => c - a)[0]?.[1];
  if (bin === undefined)
    return { status: 'MISSING', error: 'no pg_restore on this machine to read the dump with' };
  try {
    await run(join(bin, 'pg_restore'), ['--list', path], { maxBuffer: 256 * 1024 * 1024, signal });
    return undefined;
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim() ?? String(err);
    return { status: 'CORRUPT', error: `pg_restore cannot read ${path}: ${stderr}` };
  }
}

/** The entries of `dir` (full paths, sorted) other than `known`: what was added after the run wrote it. */
async function extraEntries(dir: string, known: readonly string[]): Promise<string[]> {
  const entries = await readdir(dir).catch(() => [] as string[]);
  return entries
    .filter((e) => !known.includes(e))
    .sort()
    .map((e) => join(dir, e));
}
