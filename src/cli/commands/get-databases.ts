import { stringify } from 'yaml';
import { DEFAULT_SECRETS_DIR } from '../../backup/dump/read-password-file.ts';
import { requireCurrentSchema } from '../../catalogue/migrate.ts';
import { withCatalogue } from '../../catalogue/open-catalogue.ts';
import { PgbackmanError } from '../../errors.ts';
import type { Cover } from '../../policy/coverage.ts';
import { coverageState, databaseCoverage } from '../../policy/database-coverage.ts';
import { discoverDatabases } from '../../policy/discover-databases.ts';
import { ExitCode } from '../exit-codes.ts';
import type { Output } from '../output.ts';
import { renderTable } from '../render-table.ts';
import type { GetFlags } from './get.ts';

/**
 * `pgbackman get databases`: the live databases of each node, each with the definitions or policies that
 * back it up (PgBackMan's databases without backup definitions, with `--uncovered`). A node that cannot be
 * reached is said on stderr and the others are still listed; the exit code is then 1.
 */
export async function runGetDatabases(
  location: string,
  flags: GetFlags,
  output: Output,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ExitCode> {
  // The catalogue is read first and let go: connecting to the nodes may take a while.
  const state = await withCatalogue(location, 'get', async (db) => {
    await requireCurrentSchema(db);
    return coverageState(db, (all) =>
      flags.node === undefined ? all : all.filter((n) => n.name === flags.node),
    );
  });
  if (flags.node !== undefined && state.nodes.length === 0)
    throw new PgbackmanError('NOT_FOUND', `PgSQLNode/${flags.node} is not in the catalogue`);
  const found = await discoverDatabases(state.nodes, {
    env,
    secretsDir: flags.secretsDir ?? (env.PGBACKMAN_SECRETS_DIR || DEFAULT_SECRETS_DIR),
  });
  const rows = databaseCoverage(state, found, new Date()).filter(
    (r) =>
      (flags.database === undefined || r.database === flags.database) &&
      (flags.uncovered !== true || r.coveredBy.length === 0),
  );
  for (const f of found.failures)
    output.err.write(`error[${f.error.code}]: node ${f.node}: ${f.error.message}\n`);
  if (flags.output === 'json') output.out.write(`${JSON.stringify(rows, null, 2)}\n`);
  else if (flags.output === 'yaml') output.out.write(stringify(rows));
  else if (rows.length === 0)
    output.err.write(flags.uncovered === true ? 'No uncovered databases found.\n' : 'No databases found.\n');
  else {
    const width = process.stdout.isTTY ? process.stdout.columns : undefined;
    output.out.write(
      renderTable(
        ['NODE', 'DATABASE', 'COVERED BY'],
        rows.map((r) => [r.node, r.database, r.coveredBy.map(coverText).join(', ') || '-']),
        width,
      ),
    );
  }
  return found.failures.length > 0 ? ExitCode.Failure : ExitCode.Ok;
}

function coverText(c: Cover): string {
  const notes = [
    c.policy === null ? '' : `BackupPolicy/${c.policy}`,
    c.applied ? '' : 'not applied yet',
    c.suspended ? 'suspended' : '',
  ].filter(Boolean);
  return `${c.definition}${notes.length > 0 ? ` (${notes.join(', ')})` : ''}`;
}
