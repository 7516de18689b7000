import { stringify } from 'yaml';
import { requireCurrentSchema } from '../../catalogue/migrate.ts';
import { withCatalogue } from '../../catalogue/open-catalogue.ts';
import { listRestores, type RestoreRun } from '../../catalogue/restore-runs.ts';
import { PgbackmanError } from '../../errors.ts';
import { ExitCode } from '../exit-codes.ts';
import type { Output } from '../output.ts';
import { renderTable } from '../render-table.ts';
import type { GetFlags } from './get.ts';

const RESTORE_STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED'];

/** `pgbackman get restores`: every restore run, newest first, filtered by target node, database and status. */
export async function runGetRestores(location: string, flags: GetFlags, output: Output): Promise<ExitCode> {
  if (flags.status !== undefined && !RESTORE_STATUSES.includes(flags.status))
    throw new PgbackmanError(
      'USAGE',
      `--status: a restore is ${RESTORE_STATUSES.join(', ')}; got "${flags.status}"`,
    );
  return withCatalogue(location, 'get', async (db) => {
    await requireCurrentSchema(db);
    const restores = await listRestores(db, {
      ...(flags.node === undefined ? {} : { node: flags.node }),
      ...(flags.database === undefined ? {} : { database: flags.database }),
      ...(flags.status === undefined ? {} : { status: flags.status }),
      ...(flags.limit === undefined ? {} : { limit: flags.limit }),
    });
    if (flags.output === 'json') output.out.write(`${JSON.stringify(restores, null, 2)}\n`);
    else if (flags.output === 'yaml') output.out.write(stringify(restores));
    else if (restores.length === 0) output.err.write('No restores found.\n');
    else {
      const width = process.stdout.isTTY ? process.stdout.columns : undefined;
      output.out.write(
        renderTable(
          ['ID', 'BACKUP', 'TARGET', 'STATUS', 'STARTED', 'DURATION', 'ERROR'],
          restores.map((r) => [
            r.id.slice(0, 8),
            r.backupId?.slice(0, 8) ?? '-',
            `${r.targetNode}/${r.targetDatabase}`,
            r.status,
            r.startedAt
              .toISOString()
              .replace('T', ' ')
              .replace(/\.\d+Z$/, 'Z'),
            r.durationMs === null ? '-' : `${(r.durationMs / 1000).toFixed(1)} s`,
            firstLine(r),
          ]),
          width,
        ),
      );
    }
    return ExitCode.Ok;
  });
}

function firstLine(r: RestoreRun): string {
  return r.error === null ? '-' : (r.error.split('\n')[0] ?? '');
}
