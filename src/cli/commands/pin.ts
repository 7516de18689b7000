import { type BackupRun, isGoodRun } from '../../catalogue/backup-runs.ts';
import { requireCurrentSchema } from '../../catalogue/migrate.ts';
import { withCatalogue } from '../../catalogue/open-catalogue.ts';
import { pinRun, unpinRun } from '../../catalogue/retention-steps.ts';
import { PgbackmanError } from '../../errors.ts';
import { whoAmI } from '../../system/who-am-i.ts';
import { ExitCode } from '../exit-codes.ts';
import type { Output } from '../output.ts';
import { resolveBackup } from '../resolve-backup.ts';
import { pinText, runLabel } from '../run-state-text.ts';

/** `pgbackman pin BACKUP_ID [--reason TEXT]`: retention never deletes a pinned dump; who, when and why are kept. */
export async function runPin(
  id: string,
  reason: string | undefined,
  location: string,
  output: Output,
): Promise<ExitCode> {
  const why = reason?.trim() || null;
  return withCatalogue(location, 'pin', async (db) => {
    await requireCurrentSchema(db);
    const run = await resolveBackup(db, id);
    refuseUnpinnable(run);
    if (!(await pinRun(db, run.id, whoAmI(), why)))
      // The row changed between the read and the update: a sweep started deleting it, most likely.
      throw new PgbackmanError(
        'INVALID_INPUT',
        `backup ${run.id} changed while it was being pinned (a retention sweep may have started deleting it); run \`pgbackman describe backup ${run.id}\``,
      );
    // One pin per dump: a new one replaces the old, whose author is named so nothing is lost silently.
    if (run.pin !== null) output.err.write(`note: it was pinned ${pinText(run)}; this pin replaces it\n`);
    output.out.write(`pinned ${runLabel(run)}${why === null ? '' : `: ${why}`}\n`);
    return ExitCode.Ok;
  });
}

/** `pgbackman unpin BACKUP_ID`: the next retention sweep may delete the dump again. */
export async function runUnpin(id: string, location: string, output: Output): Promise<ExitCode> {
  return withCatalogue(location, 'unpin', async (db) => {
    await requireCurrentSchema(db);
    const run = await resolveBackup(db, id);
    if (run.pin === null || !(await unpinRun(db, run.id)))
      throw new PgbackmanError('INVALID_INPUT', `backup ${run.id} is not pinned`);
    output.out.write(`unpinned ${runLabel(run)} (was pinned ${pinText(run)})\n`);
    return ExitCode.Ok;
  });
}

function refuseUnpinnable(run: BackupRun): void {
  const why = run.deletedReason === null ? '' : ` (${run.deletedReason})`;
  if (run.deletion === 'DELETING')
    throw new PgbackmanError(
      'INVALID_INPUT',
      `backup ${run.id} is being deleted${why}: its files may already be gone, so it cannot be pinned`,
    );
  if (run.deletion === 'DELETED')
    throw new PgbackmanError(
      'INVALID_INPUT',
      `backup ${run.id} was deleted${run.deletedAt === null ? '' : ` at ${run.deletedAt}`}${why}: there is nothing left to pin`,
    );
  if (!isGoodRun(run.status))
    throw new PgbackmanError(
      'INVALID_INPUT',
      `backup ${run.id} is ${run.status}: only a successful dump can be pinned`,
    );
}
