import { stringify } from 'yaml';
import { type BackupRun, listBackups } from '../../catalogue/backup-runs.ts';
import { copiesOf, type DumpCopy } from '../../catalogue/dump-copies.ts';
import { listObjects } from '../../catalogue/list-objects.ts';
import { requireCurrentSchema } from '../../catalogue/migrate.ts';
import { withCatalogue } from '../../catalogue/open-catalogue.ts';
import { PgbackmanError } from '../../errors.ts';
import { KINDS, type Kind, parseKind } from '../../manifest/kinds.ts';
import { ExitCode } from '../exit-codes.ts';
import type { Output } from '../output.ts';
import { resolveBackup, resolveRestore } from '../resolve-backup.ts';
import { deletionText, pinText } from '../run-state-text.ts';
import { RESOURCES } from './get.ts';

/** `pgbackman describe KIND/NAME` or `describe backup ID`: everything the catalogue knows about one thing. */
export async function runDescribe(
  target: string,
  id: string | undefined,
  location: string,
  output: Output,
): Promise<ExitCode> {
  return withCatalogue(location, 'describe', async (db) => {
    await requireCurrentSchema(db);
    if (/^backups?$/i.test(target)) {
      if (id === undefined)
        throw new PgbackmanError('USAGE', 'describe backup needs an ID (see `pgbackman get backups`)');
      const run = await resolveBackup(db, id);
      const copies = (await copiesOf(db, [run.id])).get(run.id) ?? [];
      output.out.write(stringify(backupDoc(run, copies)));
      return ExitCode.Ok;
    }
    if (/^restores?$/i.test(target)) {
      if (id === undefined)
        throw new PgbackmanError('USAGE', 'describe restore needs an ID (see `pgbackman get restores`)');
      output.out.write(stringify(await resolveRestore(db, id)));
      return ExitCode.Ok;
    }
    const [kindText = '', name] = target.split('/');
    const kind = kindOf(kindText);
    if (kind === undefined || name === undefined || name === '') {
      throw new PgbackmanError(
        'USAGE',
        `describe takes KIND/NAME (kinds: ${KINDS.join(', ')}) or "backup ID"; got "${target}"`,
      );
    }
    const [object] = await listObjects(db, kind, { name });
    if (object === undefined)
      throw new PgbackmanError('NOT_FOUND', `${kind}/${name} is not in the catalogue`);
    const runs =
      kind === 'BackupDefinition' || kind === 'SnapshotDefinition'
        ? await listBackups(db, {
            [kind === 'BackupDefinition' ? 'definition' : 'snapshot']: name,
            limit: 10,
          })
        : [];
    const doc = {
      address: `${kind}/${name}`,
      managed: object.managed,
      generation: object.generation,
      source: object.source,
      created: object.createdAt,
      updated: object.updatedAt,
      labels: object.labels,
      annotations: object.annotations,
      spec: object.spec,
      ...(kind === 'BackupDefinition' || kind === 'SnapshotDefinition'
        ? {
            lastRuns: runs.map((r) => ({
              id: r.id,
              status: r.status,
              started: r.startedAt,
              durationMs: r.durationMs,
              bytes: r.dumpBytes,
              revision: r.revision,
              error: r.error,
            })),
          }
        : {}),
    };
    output.out.write(stringify(doc));
    return ExitCode.Ok;
  });
}

/** Every recorded field, the pin and the deletion as sentences right under the status, where they matter. */
function backupDoc(run: BackupRun, copies: readonly DumpCopy[]): Record<string, unknown> {
  const { id, status, pin: _pin, deletion: _deletion, deletedReason: _reason, ...rest } = run;
  const pinned = pinText(run);
  const deletion = deletionText(run);
  return {
    id,
    status,
    ...(pinned === null ? {} : { pinned }),
    ...(deletion === null ? {} : { deletion }),
    ...rest,
    // Each further destination of the server's storage: what arrived there, or why not.
    ...(copies.length === 0 ? {} : { copies: copies.map(({ runId: _run, ...c }) => c) }),
  };
}

function kindOf(text: string): Kind | undefined {
  const resource = RESOURCES[text.toLowerCase()] ?? RESOURCES[`${text.toLowerCase()}s`];
  if (resource !== undefined && resource !== 'backups') return resource;
  return parseKind(text);
}
