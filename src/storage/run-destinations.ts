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
 * The further destinations (after the root directory) a run's definition sends its dumps to, as the catalogue
 * holds it now: the definition's own list, or its server's. A definition that is gone: its server's.
 */
export async function furtherDestinationsOf(
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
  return storageOf(server, own?.spec).slice(1);
}
