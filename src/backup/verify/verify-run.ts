import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { BackupRun } from '../../catalogue/backup-runs.ts';
import { discoverPgBinDirs } from '../dump/pg-bin-dirs.ts';
import { BACKUP_MANIFEST } from '../files/backup-manifest.ts';
import { hashFile } from '../files/hashed-file.ts';

const run = promisify(execFile);

export interface Verification {
  readonly id: string;
  readonly status: 'OK' | 'CORRUPT' | 'MISSING';
  readonly error: string | null;
  /** Files in the dump's folder that the run did not write (inside a directory-format dump, they make it CORRUPT). */
  readonly unexpected: readonly string[];
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
/** `signal`: stops reading (a restore refused while its dump was still being hashed); it then rejects. */
export async function verifyRun(b: BackupRun, signal?: AbortSignal): Promise<Verification> {
  let unexpected: string[] = [];
  const fail = (status: 'CORRUPT' | 'MISSING', error: string): Verification => ({
    id: b.id,
    status,
    error,
    unexpected,
  });
  const ok = (): Verification => ({ id: b.id, status: 'OK', error: null, unexpected });
  if (b.dumpPath === null || b.status !== 'SUCCEEDED')
    return fail('MISSING', `the backup is ${b.status}, with no dump to verify`);
  const dir = dirname(b.dumpPath);
  const recorded = (b.sha256 ?? {}) as Record<string, string | Record<string, string>>;
  for (const [name, sum] of Object.entries(recorded)) {
    const files =
      typeof sum === 'string'
        ? { [name]: sum }
        : Object.fromEntries(Object.entries(sum).map(([f, s]) => [join(name, f), s]));
    for (const [file, expected] of Object.entries(files)) {
      const path = join(dir, file);
      if (!existsSync(path)) return fail('MISSING', `${path} is missing`);
      const { sha256 } = await hashFile(path, signal);
      if (sha256 !== expected)
        return fail(
          'CORRUPT',
          `${path}: sha256 ${sha256} differs from the ${expected} recorded when it was taken`,
        );
    }
    if (typeof sum !== 'string') {
      // pg_restore reads a directory-format dump's folder as a whole: a file added there is part of the dump.
      const inside = await extraEntries(join(dir, name), Object.keys(sum));
      if (inside.length > 0) {
        unexpected = inside;
        return fail(
          'CORRUPT',
          `${join(dir, name)} holds ${inside.length === 1 ? 'a file' : 'files'} pg_dump did not write when it was taken: ${inside.map((p) => basename(p)).join(', ')}`,
        );
      }
    }
  }
  unexpected = await extraEntries(dir, [...Object.keys(recorded), ...UNHASHED]);
  const name = basename(b.dumpPath);
  if (name.endsWith('.sql')) {
    const head = readFileSync(b.dumpPath, { encoding: 'utf8', flag: 'r' }).slice(0, 4096);
    if (!/^--\n-- PostgreSQL database (cluster )?dump/m.test(head))
      return fail('CORRUPT', `${b.dumpPath} does not start with a PostgreSQL dump header`);
    return ok();
  }
  const bin = [...discoverPgBinDirs().entries()].sort(([a], [c]) => c - a)[0]?.[1];
  if (bin === undefined) return fail('MISSING', 'no pg_restore on this machine to read the dump with');
  try {
    await run(join(bin, 'pg_restore'), ['--list', b.dumpPath], { maxBuffer: 256 * 1024 * 1024 });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim() ?? String(err);
    return fail('CORRUPT', `pg_restore cannot read ${b.dumpPath}: ${stderr}`);
  }
  return ok();
}

/** The entries of `dir` (full paths, sorted) other than `known`: what was added after the run wrote it. */
async function extraEntries(dir: string, known: readonly string[]): Promise<string[]> {
  const entries = await readdir(dir).catch(() => [] as string[]);
  return entries
    .filter((e) => !known.includes(e))
    .sort()
    .map((e) => join(dir, e));
}
