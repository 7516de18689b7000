import { stringify } from 'yaml';
import type { Queryable } from '../../catalogue/catalogue-db.ts';
import { requireCurrentSchema } from '../../catalogue/migrate.ts';
import { withCatalogue } from '../../catalogue/open-catalogue.ts';
import { fleetCounts, recentProblems, type StatsScope, tallyKeptRuns } from '../../catalogue/run-stats.ts';
import { PgbackmanError } from '../../errors.ts';
import { type StatsReport, statsReport } from '../../report/stats-report.ts';
import { ExitCode } from '../exit-codes.ts';
import { humanBytes } from '../human-bytes.ts';
import type { Output } from '../output.ts';
import { renderTable } from '../render-table.ts';
import { utcText } from '../schedule-text.ts';

/** `stats`, `stats server NAME` or `stats node NAME`. */
export function statsScope(words: readonly string[]): StatsScope {
  if (words.length === 0) return {};
  const [what, name, ...rest] = words;
  if ((what === 'server' || what === 'node') && name !== undefined && name !== '' && rest.length === 0)
    return what === 'server' ? { server: name } : { node: name };
  throw new PgbackmanError(
    'USAGE',
    `stats takes nothing, "server NAME" or "node NAME"; got "${words.join(' ')}"`,
  );
}

/** `pgbackman stats`: what is covered, what failed, how much space, for the fleet, a server or a node. */
export async function runStats(
  location: string,
  words: readonly string[],
  format: 'table' | 'json' | 'yaml',
  output: Output,
): Promise<ExitCode> {
  const scope = statsScope(words);
  const report = await withCatalogue(location, 'stats', async (db) => {
    await requireCurrentSchema(db);
    await requireScope(db, scope);
    const now = new Date();
    const [counts, tallies, problems] = [
      await fleetCounts(db, scope),
      await tallyKeptRuns(db, scope),
      await recentProblems(db, scope, now),
    ];
    return statsReport({ scope, now, counts, tallies, problems });
  });
  if (format === 'json') output.out.write(`${JSON.stringify(report, null, 2)}\n`);
  else if (format === 'yaml') output.out.write(stringify(report));
  else output.out.write(statsText(report, process.stdout.isTTY ? process.stdout.columns : undefined));
  return ExitCode.Ok;
}

/** A scope naming a server or node the catalogue does not have is an error, not a report of zeros. */
async function requireScope(db: Queryable, scope: StatsScope): Promise<void> {
  const [kind, table, name] =
    scope.server !== undefined
      ? ['BackupServer', 'backup_servers', scope.server]
      : scope.node !== undefined
        ? ['PgSQLNode', 'pgsql_nodes', scope.node]
        : [];
  if (name === undefined) return;
  const rows = await db.query(`select 1 from pgbackman.${table} where name = $1`, [name]);
  if (rows.length === 0) throw new PgbackmanError('NOT_FOUND', `${kind}/${name} is not in the catalogue`);
}

const count = (n: number) => n.toLocaleString('en-US');
/** `1 server`, `2 servers`. */
const some = (n: number, one: string, many = `${one}s`) => `${count(n)} ${n === 1 ? one : many}`;

export function statsText(r: StatsReport, width?: number): string {
  const scope =
    r.scope.server !== null
      ? `server ${r.scope.server}`
      : r.scope.node !== null
        ? `node ${r.scope.node}`
        : 'all';
  const statuses = Object.entries(r.dumps.byStatus)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${count(n)} ${s}`);
  const v = r.verify;
  const lines = [
    `Scope:        ${scope} (at ${utcText(r.at)})`,
    `Objects:      ${some(r.servers, 'server')}, ${some(r.nodes, 'node')}, ${some(r.definitions, 'definition')}${r.suspendedDefinitions > 0 ? ` (${count(r.suspendedDefinitions)} suspended)` : ''}, ${some(r.snapshots, 'snapshot')}`,
    `Dumps kept:   ${count(r.dumps.total)}${statuses.length > 0 ? ` (${statuses.join(', ')})` : ''}, ${humanBytes(r.dumps.bytes)}`,
    `Good dumps:   oldest ${utcText(r.dumps.oldest)}, newest ${utcText(r.dumps.newest)}`,
    `Failures:     ${count(r.failures.last24h)} in the last 24 h, ${count(r.failures.last7d)} in the last 7 d; missed runs ${count(r.missed.last24h)} and ${count(r.missed.last7d)}`,
    `Verify:       ${count(v.hashVerified)} of ${count(v.goodDumps)} good dumps re-hashed intact (${Math.floor(v.coverage * 100)}%), ${count(v.restoreTested)} restore-tested; ${count(v.restoreTestedDefinitions)} of ${count(v.definitions)} definitions have restore tests`,
  ];
  const table =
    r.perNode.length === 0
      ? ''
      : `\n${renderTable(
          ['NODE', 'DUMPS', 'GOOD', 'SIZE', 'OLDEST GOOD', 'NEWEST GOOD'],
          r.perNode.map((n) => [
            n.node,
            count(n.dumps),
            count(n.goodDumps),
            humanBytes(n.bytes),
            utcText(n.oldest),
            utcText(n.newest),
          ]),
          width,
        )}`;
  return `${lines.join('\n')}\n${table}`;
}
