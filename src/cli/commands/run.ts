import { runDump } from '../../backup/run-dump.ts';
import { listObjects } from '../../catalogue/list-objects.ts';
import { requireCurrentSchema } from '../../catalogue/migrate.ts';
import { withCatalogue } from '../../catalogue/open-catalogue.ts';
import { PgbackmanError } from '../../errors.ts';
import type { BackupServer, PgSQLNode } from '../../manifest/generated/manifest-types.ts';
import { ExitCode } from '../exit-codes.ts';
import type { Output } from '../output.ts';
import { humanBytes } from './get.ts';

/** `pgbackman run NAME`: one dump now, in the foreground, recorded in the catalogue like any other. */
export async function runRun(
  name: string,
  location: string,
  flags: { snapshot: boolean },
  output: Output,
): Promise<ExitCode> {
  return withCatalogue(location, 'run', async (db) => {
    await requireCurrentSchema(db);
    const kind = flags.snapshot ? 'SnapshotDefinition' : 'BackupDefinition';
    const [definition] = await listObjects(db, kind, { name });
    if (definition === undefined) {
      const hint = flags.snapshot ? '' : ' (for a snapshot, add --snapshot)';
      throw new PgbackmanError(
        'NOT_FOUND',
        `${kind}/${name} is not in the catalogue${hint}; see \`pgbackman get ${flags.snapshot ? 'snapshots' : 'definitions'}\``,
      );
    }
    const spec = definition.spec as { server: string; node: string; database?: string };
    const [node] = await listObjects(db, 'PgSQLNode', { name: spec.node });
    const [server] = await listObjects(db, 'BackupServer', { name: spec.server });
    if (node === undefined || server === undefined)
      throw new PgbackmanError(
        'NOT_FOUND',
        `${kind}/${name} refers to a node or server the catalogue does not have`,
      );
    output.err.write(`Dumping ${spec.database ?? 'the whole node'} on ${node.name} for ${kind}/${name}...\n`);
    const result = await runDump(
      {
        kind,
        name,
        spec: definition.spec as never,
        node: { name: node.name, spec: node.spec as PgSQLNode['spec'] },
        server: { name: server.name, spec: server.spec as BackupServer['spec'] },
      },
      db,
    );
    if (result.spooled) {
      output.err.write(
        `note: the catalogue could not be reached; this run's record waits in the spool and is sent at the next contact\n`,
      );
    }
    const what = `${result.settings.code} dump of ${spec.database ?? 'the whole node'} on ${node.name}`;
    const took = `${(result.durationMs / 1000).toFixed(1)} s`;
    if (result.status === 'SUCCEEDED') {
      output.out.write(
        `Backup ${result.id} SUCCEEDED: ${what}, ${humanBytes(result.bytes ?? 0)} in ${took}\n  ${result.dir}\n`,
      );
      return ExitCode.Ok;
    }
    output.out.write(`Backup ${result.id} FAILED: ${what} after ${took}\n`);
    output.err.write(`error: ${result.error}\n`);
    return ExitCode.Failure;
  });
}
