import type { BackupRun } from '../catalogue/backup-runs.ts';
import type { Queryable } from '../catalogue/catalogue-db.ts';
import { type CatalogueObject, listObjects } from '../catalogue/list-objects.ts';
import { PgbackmanError } from '../errors.ts';

/** For a restore (or a restore test) of `backup` onto `nodeName`: the target node, the dump's server and source node. */
export async function restoreParties(
  db: Queryable,
  backup: BackupRun,
  nodeName: string,
): Promise<{
  readonly target: CatalogueObject<'PgSQLNode'>;
  readonly server: CatalogueObject<'BackupServer'>;
  readonly source: CatalogueObject<'PgSQLNode'> | undefined;
}> {
  const [target] = await listObjects(db, 'PgSQLNode', { name: nodeName });
  if (target === undefined)
    throw new PgbackmanError(
      'NOT_FOUND',
      `no PgSQLNode "${nodeName}" in the catalogue (see \`pgbackman get nodes\`)`,
    );
  const [server] = await listObjects(db, 'BackupServer', { name: backup.server });
  if (server === undefined)
    throw new PgbackmanError(
      'NOT_FOUND',
      `backup ${backup.id} was taken by BackupServer "${backup.server}", which is not in the catalogue (apply its manifest, or restore with --from FOLDER --target CONNINFO, which needs no catalogue)`,
    );
  const [source] = await listObjects(db, 'PgSQLNode', { name: backup.node });
  return { target, server, source };
}
