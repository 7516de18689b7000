import { lstatSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BACKUP_MANIFEST } from '../../backup/files/backup-manifest.ts';
import { importRun } from '../../catalogue/backup-runs.ts';
import { requireCurrentSchema } from '../../catalogue/migrate.ts';
import { withCatalogue } from '../../catalogue/open-catalogue.ts';
import { messageOf, PgbackmanError } from '../../errors.ts';
import { readDumpFolder } from '../../restore/dump-folder.ts';
import { ExitCode } from '../exit-codes.ts';
import type { Output } from '../output.ts';

/** A server's root is <node>/<database>/<run>: deeper than this is not a dump layout pgbackman wrote. */
const MAX_DEPTH = 6;

/** Every folder under `root` that holds a backup.json; symbolic links are not followed. */
export function findDumpFolders(root: string, depth = 0): string[] {
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(root, { withFileTypes: true });
  } catch (err) {
    throw new PgbackmanError('NOT_FOUND', `${root}: ${messageOf(err)}`);
  }
  if (entries.some((e) => e.isFile() && e.name === BACKUP_MANIFEST)) return [root];
  if (depth >= MAX_DEPTH) return [];
  return entries
    .filter((e) => e.isDirectory() && !e.name.endsWith('.partial') && !e.name.startsWith('.'))
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((e) => findDumpFolders(join(root, e.name), depth + 1));
}

/**
 * `pgbackman catalogue import PATH...`: the dumps under PATH entered into the catalogue from their
 * backup.json, after a catalogue was lost. Idempotent: a run already known is skipped, one known otherwise
 * is a conflict (reported, not changed). Exit 1 when anything was a conflict or unreadable.
 */
export async function runCatalogueImport(
  paths: readonly string[],
  location: string,
  output: Output,
): Promise<ExitCode> {
  if (paths.length === 0)
    throw new PgbackmanError(
      'USAGE',
      'catalogue import takes one or more directories (a server root, or dump folders)',
    );
  const folders = paths.flatMap((p) => {
    const full = resolve(p);
    if (lstatSync(full, { throwIfNoEntry: false })?.isSymbolicLink())
      throw new PgbackmanError('UNSAFE', `${p} is a symbolic link; give the directory itself`);
    return findDumpFolders(full);
  });
  return withCatalogue(location, 'catalogue import', async (db) => {
    await requireCurrentSchema(db);
    const counts = { imported: 0, known: 0, conflict: 0, unreadable: 0 };
    for (const folder of folders) {
      let line: string;
      try {
        const run = await readDumpFolder(folder);
        const outcome = await importRun(db, run);
        if (typeof outcome === 'string') {
          counts[outcome]++;
          line = `${run.id} ${outcome === 'known' ? 'already known' : outcome}: ${folder}`;
        } else {
          counts.conflict++;
          line = `${run.id} conflict: ${folder}: ${outcome.conflict}`;
        }
      } catch (err) {
        counts.unreadable++;
        line = `unreadable: ${folder}: ${messageOf(err)}`;
      }
      output.out.write(`${line}\n`);
    }
    output.err.write(
      `${folders.length} dump folder(s): ${counts.imported} imported, ${counts.known} already known, ${counts.conflict} conflict(s), ${counts.unreadable} unreadable\n`,
    );
    return counts.conflict + counts.unreadable === 0 ? ExitCode.Ok : ExitCode.Failure;
  });
}
