import { join } from 'node:path';
import type { Queryable } from '../catalogue/catalogue-db.ts';
import { listObjects } from '../catalogue/list-objects.ts';
import type { SpecOf } from '../manifest/kinds.ts';

export type StorageDestination = NonNullable<SpecOf<'BackupServer'>['storage']>[number];

/** A definition's storage list when it has its own, else its server's (the root directory alone when neither). */
export function storageOf(
  server: SpecOf<'BackupServer'>,
  definition?: { readonly storage?: SpecOf<'BackupServer'>['storage'] } | undefined,
): readonly StorageDestination[] {
  return definition?.storage ?? server.storage ?? [];
}

/**
 * Whether a storage list only stages its dumps in the root directory: it starts with a bucket, which is then
 * the primary; the root's folder is removed once every destination holds the dump.
 */
export function stagesInRoot(storage: readonly StorageDestination[]): boolean {
  return storage[0]?.s3 !== undefined;
}

/**
 * The destinations a dump is copied to from the root directory, where it is written: every one after the
 * first, which is the root itself; all of them, the primary first, when the first is a bucket.
 */
export function furtherOf(storage: readonly StorageDestination[]): readonly StorageDestination[] {
  return stagesInRoot(storage) ? storage : storage.slice(1);
}

/** Where a dump folder's copy at `d` is, as its record says: the directory, or the bucket's URL and endpoint. */
export function copyLocation(d: StorageDestination, folder: string): string {
  if (d.local !== undefined) return join(d.local.path, folder);
  const at = d.s3?.endpoint === undefined ? '' : ` at ${d.s3.endpoint.replace(/\/$/, '')}`;
  return `s3://${d.s3?.bucket}/${d.s3?.prefix ?? ''}${folder}/${at}`;
}

/**
 * The further destinations (after the root directory) a run's definition sends its dumps to, as the catalogue
 * holds it now: the definition's own list, or its server's. A definition that is gone: its server's.
 */
export async function furtherDestinationsOf(
  q: Queryable,
  run: { readonly definition: string | null; readonly snapshot: string | null },
  server: SpecOf<'BackupServer'>,
): Promise<readonly StorageDestination[]> {
  return furtherOf(await storageOfRun(q, run, server));
}

/** A run's definition's storage list as the catalogue holds it now, else its server's. */
export async function storageOfRun(
  q: Queryable,
  run: { readonly definition: string | null; readonly snapshot: string | null },
  server: SpecOf<'BackupServer'>,
): Promise<readonly StorageDestination[]> {
  const [own] =
    run.definition !== null
      ? await listObjects(q, 'BackupDefinition', { name: run.definition })
      : run.snapshot !== null
        ? await listObjects(q, 'SnapshotDefinition', { name: run.snapshot })
        : [];
  return storageOf(server, own?.spec);
}
