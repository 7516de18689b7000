import { lastRestoreTests, lastRuns } from '../../catalogue/backup-runs.ts';
import { listObjects } from '../../catalogue/list-objects.ts';
import { requireCurrentSchema } from '../../catalogue/migrate.ts';
import { withCatalogue } from '../../catalogue/open-catalogue.ts';
import { PgbackmanError } from '../../errors.ts';
import { parentsOf } from '../../schedule/definition-schedule.ts';
import { DEFAULT_GRACE_MS, isUnhealthy } from '../../schedule/overdue.ts';
import { type StatusEntry, type StatusReport, statusReport } from '../../schedule/status-report.ts';
import { durationFlag } from '../duration-flag.ts';
import { ExitCode } from '../exit-codes.ts';
import { humanBytes } from '../human-bytes.ts';
import type { Output } from '../output.ts';
import { renderTable } from '../render-table.ts';
import { nextRunText, utcText } from '../schedule-text.ts';

export interface StatusFlags {
  readonly server?: string;
  readonly grace?: string;
  readonly output: 'text' | 'json';
}

/** `pgbackman status`: each definition's last runs and state; exit 1 when any is OVERDUE or FAILING. */
export async function runStatus(location: string, flags: StatusFlags, output: Output): Promise<ExitCode> {
  const grace = flags.grace === undefined ? DEFAULT_GRACE_MS : durationFlag(flags.grace, '--grace');
  const report = await withCatalogue(location, 'status', async (db) => {
    await requireCurrentSchema(db);
    const filter = flags.server === undefined ? {} : { server: flags.server };
    const servers = await listObjects(db, 'BackupServer');
    if (flags.server !== undefined && !servers.some((s) => s.name === flags.server))
      throw new PgbackmanError('NOT_FOUND', `BackupServer/${flags.server} is not in the catalogue`);
    const nodes = await listObjects(db, 'PgSQLNode');
    const definitions = await listObjects(db, 'BackupDefinition', filter);
    const snapshots = await listObjects(db, 'SnapshotDefinition', filter);
    const runs = await lastRuns(db, filter);
    const parents = parentsOf(nodes, servers);
    const tested = definitions.filter((d) => d.spec.verify !== undefined).map((d) => d.name);
    const restoreTests =
      tested.length === 0 ? new Map() : await lastRestoreTests(db, flags.server ?? null, tested);
    return statusReport({ definitions, snapshots, parents, runs, now: new Date(), grace, restoreTests });
  });
  if (flags.output === 'json') output.out.write(`${JSON.stringify(report, null, 2)}\n`);
  else if (report.definitions.length === 0) output.err.write('No definitions found.\n');
  else {
    const width = process.stdout.isTTY ? process.stdout.columns : undefined;
    output.out.write(renderTable(...rows(report.definitions), width));
    output.out.write(`${summaryText(report)}\n`);
  }
  const failing = (d: StatusEntry) =>
    isUnhealthy(d.state) || d.restoreTests?.state === 'FAILED' || d.restoreTests?.state === 'OVERDUE';
  return report.definitions.some(failing) ? ExitCode.Failure : ExitCode.Ok;
}

function rows(entries: readonly StatusEntry[]): [string[], string[][]] {
  const headers = ['STATE', 'DEFINITION', 'SERVER', 'NODE', 'DATABASE', 'LAST SUCCESS', 'SIZE'];
  // The restore tests' column only when a definition asks for them: the usual table keeps its shape.
  const tests = entries.some((e) => e.restoreTests !== null);
  return [
    [...headers, 'LAST FAILURE', 'NEXT RUN', ...(tests ? ['RESTORE TEST'] : [])],
    entries.map((e) => [
      e.state,
      e.kind === 'BackupDefinition' ? e.name : `snapshot:${e.name}`,
      e.server,
      e.node,
      e.database ?? '-',
      utcText(e.lastSuccess?.at ?? null),
      e.lastSuccess === null || e.lastSuccess.bytes === null ? '-' : humanBytes(e.lastSuccess.bytes),
      e.lastFailure === null
        ? '-'
        : `${utcText(e.lastFailure.at)} ${(e.lastFailure.error ?? 'failed').replace(/\s+/g, ' ')}`,
      nextRunText(e.nextRunAt, e.suspended),
      ...(tests ? [restoreTestText(e)] : []),
    ]),
  ];
}

function restoreTestText(e: StatusEntry): string {
  if (e.restoreTests === null) return '-';
  const { state, testedAt } = e.restoreTests;
  return testedAt === null ? state : `${state} ${utcText(testedAt)}`;
}

/** `4 definitions: 2 OK, 1 OVERDUE, 1 NEVER`, states with none left out. */
function summaryText({ summary }: StatusReport): string {
  const states = (['OK', 'OVERDUE', 'FAILING', 'NEVER', 'SUSPENDED'] as const)
    .filter((s) => summary[s] > 0)
    .map((s) => `${summary[s]} ${s}`);
  return `${summary.total} ${summary.total === 1 ? 'definition' : 'definitions'}: ${states.join(', ')}`;
}
