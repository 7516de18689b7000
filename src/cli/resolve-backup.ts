import { type BackupRun, listBackups } from '../catalogue/backup-runs.ts';
import type { Queryable } from '../catalogue/catalogue-db.ts';
import { listRestores, type RestoreRun } from '../catalogue/restore-runs.ts';
import { PgbackmanError } from '../errors.ts';

/**
 * The one dump whose id is `id` or starts with it, as `get backups` shows ids (their first 8 characters).
 * Deleted dumps are found too unless `includeDeleted` is false, so a command can say what became of one.
 */
export async function resolveBackup(
  q: Queryable,
  id: string,
  options: { readonly includeDeleted?: boolean } = {},
): Promise<BackupRun> {
  // Only hex digits and dashes: anything else could never match, and % or _ would be LIKE wildcards.
  if (!/^[0-9a-f-]+$/i.test(id))
    throw new PgbackmanError('USAGE', `"${id}" is not a backup id (see \`pgbackman get backups\`)`);
  const found = await listBackups(q, {
    id: id.toLowerCase(),
    includeDeleted: options.includeDeleted ?? true,
    limit: 2,
  });
  const [one] = found;
  if (one === undefined) throw new PgbackmanError('NOT_FOUND', `no backup with an id starting with "${id}"`);
  // The same prefix can become ambiguous as dumps are added: a value to correct, not a wrong command line.
  if (found.length > 1)
    throw new PgbackmanError('INVALID_INPUT', `more than one backup id starts with "${id}"; give more of it`);
  return one;
}

/** The one restore run whose id is `id` or starts with it, as `get restores` shows ids. */
export async function resolveRestore(q: Queryable, id: string): Promise<RestoreRun> {
  if (!/^[0-9a-f-]+$/i.test(id))
    throw new PgbackmanError('USAGE', `"${id}" is not a restore id (see \`pgbackman get restores\`)`);
  const found = await listRestores(q, { id: id.toLowerCase(), limit: 2 });
  const [one] = found;
  if (one === undefined) throw new PgbackmanError('NOT_FOUND', `no restore with an id starting with "${id}"`);
  if (found.length > 1)
    throw new PgbackmanError(
      'INVALID_INPUT',
      `more than one restore id starts with "${id}"; give more of it`,
    );
  return one;
}
