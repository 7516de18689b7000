import { existsSync, lstatSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { DEFAULT_SECRETS_DIR } from '../../backup/dump/read-password-file.ts';
import { BACKUP_MANIFEST } from '../../backup/files/backup-manifest.ts';
import { importRun } from '../../catalogue/backup-runs.ts';
import type { Queryable } from '../../catalogue/catalogue-db.ts';
import { recordCopy } from '../../catalogue/dump-copies.ts';
import { listObjects } from '../../catalogue/list-objects.ts';
import { requireCurrentSchema } from '../../catalogue/migrate.ts';
import { withCatalogue } from '../../catalogue/open-catalogue.ts';
import { messageOf, PgbackmanError } from '../../errors.ts';
import type { SpecOf } from '../../manifest/kinds.ts';
import { readDumpFolder } from '../../restore/dump-folder.ts';
import { isAllowed, parseAllowedDestinations } from '../../storage/allowed-destinations.ts';
import { findCopies } from '../../storage/import-copies.ts';
import { openDestination } from '../../storage/open-destination.ts';
import { furtherOf, stagesInRoot, storageOfRun } from '../../storage/run-destinations.ts';
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
  ctx: { readonly env: NodeJS.ProcessEnv; readonly secretsDir: string } = {
    env: process.env,
    secretsDir: DEFAULT_SECRETS_DIR,
  },
): Promise<ExitCode> {
  if (paths.length === 0)
    throw new PgbackmanError(
      'USAGE',
      'catalogue import takes one or more directories (a server root, or dump folders)',
    );
  const buckets = paths.filter(isBucket);
  const folders = paths
    .filter((p) => !isBucket(p))
    .flatMap((p) => {
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
    let total = folders.length;
    for (const url of buckets) {
      const matches = await destinationsAt(db, url);
      if (matches.length === 0) {
        counts.unreadable++;
        output.out.write(
          `unreadable: ${url}: no BackupServer in the catalogue lists a storage destination there (apply the manifests first: the server's destination says how to reach it)\n`,
        );
        continue;
      }
      for (const { server, destination } of matches) {
        const dest = openDestination(destination, ctx.env, ctx.secretsDir);
        try {
          for (const f of await findCopies(dest, server.name, server.spec)) {
            total++;
            if ('error' in f) {
              counts.unreadable++;
              output.out.write(`unreadable: ${f.folder} at ${destination.name}: ${f.error}\n`);
              continue;
            }
            // A dump whose storage only stages it in the root, and whose folder is not there: released, as the
            // agent would have left it (verify and retention then look at its copies, not the root).
            const staged =
              stagesInRoot(await storageOfRun(db, f.run, server.spec)) &&
              f.run.dumpPath !== null &&
              !existsSync(dirname(f.run.dumpPath));
            const outcome = await importRun(db, staged ? { ...f.run, rootCopy: 'RELEASED' } : f.run);
            if (typeof outcome !== 'string') {
              counts.conflict++;
              output.out.write(`${f.run.id} conflict: ${f.copy.location}: ${outcome.conflict}\n`);
              continue;
            }
            counts[outcome]++;
            // Known or new, the copy is recorded: a restore may fetch it, retention will delete it.
            await recordCopy(db, f.copy);
            output.out.write(
              `${f.run.id} ${outcome === 'known' ? 'already known' : outcome}: ${f.copy.location} (copy at ${destination.name} recorded)\n`,
            );
          }
        } finally {
          dest.close();
        }
      }
    }
    output.err.write(
      `${total} dump folder(s): ${counts.imported} imported, ${counts.known} already known, ${counts.conflict} conflict(s), ${counts.unreadable} unreadable\n`,
    );
    return counts.conflict + counts.unreadable === 0 ? ExitCode.Ok : ExitCode.Failure;
  });
}

const isBucket = (p: string) => /^s3(\+https?)?:\/\//.test(p);

type StorageDestination = NonNullable<SpecOf<'BackupServer'>['storage']>[number];

/** The further s3 destinations of the catalogue's servers at or inside `url` (s3://BUCKET[/PREFIX] or s3+https://HOST/BUCKET[/PREFIX]). */
async function destinationsAt(
  db: Queryable,
  url: string,
): Promise<{ server: { name: string; spec: SpecOf<'BackupServer'> }; destination: StorageDestination }[]> {
  const place = parseAllowedDestinations([url]);
  const servers = await listObjects(db, 'BackupServer');
  // A definition's own storage list may name a bucket its server's does not.
  const own = [
    ...(await listObjects(db, 'BackupDefinition')),
    ...(await listObjects(db, 'SnapshotDefinition')),
  ];
  const seen = new Set<string>();
  return servers.flatMap((server) =>
    [
      ...furtherOf(server.spec.storage ?? []),
      ...own.filter((d) => d.spec.server === server.name).flatMap((d) => furtherOf(d.spec.storage ?? [])),
    ]
      .filter((d) => d.s3 !== undefined && isAllowed(place, d as Parameters<typeof isAllowed>[1]))
      .filter((d) => {
        const key = `${server.name} ${d.name} ${d.s3?.endpoint} ${d.s3?.bucket}/${d.s3?.prefix ?? ''}`;
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      })
      .map((destination) => ({ server: { name: server.name, spec: server.spec }, destination })),
  );
}
