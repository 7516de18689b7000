import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PgbackmanError } from '../errors.ts';

const MANIFEST_FILE = /\.ya?ml$/i;

/**
 * Every `*.yaml`/`*.yml` under the given files or directories, recursively, sorted and without duplicates.
 * Hidden entries (`.git`, `.pgbackman`) and `node_modules` are skipped inside directories.
 */
export async function findManifestFiles(paths: readonly string[]): Promise<string[]> {
  const found = new Set<string>();
  for (const path of paths) {
    const info = await stat(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') throw new PgbackmanError('NOT_FOUND', `${path}: no such file or directory`);
      throw new PgbackmanError('IO', `${path}: ${err.message}`, { cause: err });
    });
    if (info.isDirectory()) await walk(path, found);
    else found.add(path);
  }
  return [...found].sort(byPath);
}

async function walk(dir: string, found: Set<string>): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  for (const entry of entries) {
    if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await walk(path, found);
    else if ((entry.isFile() || entry.isSymbolicLink()) && MANIFEST_FILE.test(entry.name)) found.add(path);
  }
}

function byPath(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
