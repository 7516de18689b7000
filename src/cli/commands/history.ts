import { stringify } from 'yaml';
import {
  type ApplyDetail,
  type ApplyRecord,
  applyDetail,
  listApplies,
} from '../../catalogue/apply-history.ts';
import { type BackupRun, listBackups } from '../../catalogue/backup-runs.ts';
import { requireCurrentSchema } from '../../catalogue/migrate.ts';
import { withCatalogue } from '../../catalogue/open-catalogue.ts';
import { assertNever, PgbackmanError } from '../../errors.ts';
import { shortRevision } from '../../report/short-revision.ts';
import { sinceFlag } from '../duration-flag.ts';
import { ExitCode } from '../exit-codes.ts';
import type { Output } from '../output.ts';
import { renderTable } from '../render-table.ts';
import { utcText } from '../schedule-text.ts';
import { backupRows } from './get.ts';

export interface HistoryFlags {
  readonly output: 'table' | 'json' | 'yaml';
  readonly since?: string;
  readonly limit?: number;
  readonly server?: string;
  readonly node?: string;
  readonly database?: string;
  readonly definition?: string;
  readonly status?: string;
}

/** What `history` was asked for: the applies, one apply by serial, or the runs. */
export type HistoryQuery =
  | { readonly kind: 'applies' }
  | { readonly kind: 'apply'; readonly serial: number }
  | { readonly kind: 'runs' };

const RUN_FILTERS = ['server', 'node', 'database', 'definition', 'status'] as const;

export function historyQuery(what: string | undefined, flags: HistoryFlags): HistoryQuery {
  const query: HistoryQuery =
    what === undefined || what === 'applies'
      ? { kind: 'applies' }
      : what === 'runs'
        ? { kind: 'runs' }
        : /^[1-9][0-9]{0,15}$/.test(what)
          ? { kind: 'apply', serial: Number(what) }
          : usage(`history takes "applies", "runs" or an apply's serial number; got "${what}"`);
  const runFilters = RUN_FILTERS.filter((f) => flags[f] !== undefined);
  if (query.kind !== 'runs' && runFilters.length > 0)
    usage(`--${runFilters[0]} filters runs: pgbackman history runs --${runFilters[0]} …`);
  if (query.kind === 'apply' && (flags.since !== undefined || flags.limit !== undefined))
    usage('--since and --limit list applies or runs, not one apply');
  return query;
}

function usage(message: string): never {
  throw new PgbackmanError('USAGE', message);
}

/** `pgbackman history`: what was applied, by whom, from which commit; or every run, deleted ones too. */
export async function runHistory(
  location: string,
  what: string | undefined,
  flags: HistoryFlags,
  output: Output,
): Promise<ExitCode> {
  const query = historyQuery(what, flags);
  const since = flags.since === undefined ? {} : { since: sinceFlag(flags.since) };
  const limit = flags.limit === undefined ? {} : { limit: flags.limit };
  const result = await withCatalogue(location, 'history', async (db) => {
    await requireCurrentSchema(db);
    switch (query.kind) {
      case 'applies':
        return { kind: query.kind, items: await listApplies(db, { ...since, ...limit }) };
      case 'apply': {
        const detail = await applyDetail(db, query.serial);
        if (detail === undefined)
          throw new PgbackmanError('NOT_FOUND', `no apply has serial ${query.serial} in this catalogue`);
        return { kind: query.kind, detail };
      }
      case 'runs': {
        const filters = Object.fromEntries(
          RUN_FILTERS.flatMap((f) => (flags[f] === undefined ? [] : [[f, flags[f]]])),
        );
        return {
          kind: query.kind,
          items: await listBackups(db, { ...filters, ...since, ...limit, includeDeleted: true }),
        };
      }
      default:
        return assertNever(query);
    }
  });
  const data = result.kind === 'apply' ? result.detail : result.items;
  if (flags.output === 'json') output.out.write(`${JSON.stringify(data, null, 2)}\n`);
  else if (flags.output === 'yaml') output.out.write(stringify(data));
  else {
    const width = process.stdout.isTTY ? process.stdout.columns : undefined;
    if (result.kind === 'apply') output.out.write(applyText(result.detail));
    else if (result.items.length === 0) output.err.write(`No ${result.kind} found.\n`);
    else if (result.kind === 'applies') output.out.write(renderTable(...applyRows(result.items), width));
    else output.out.write(renderTable(...backupRows(result.items as BackupRun[]), width));
  }
  return ExitCode.Ok;
}

const changesText = ({ add, change, destroy }: ApplyRecord['summary']) => `+${add} ~${change} -${destroy}`;

function applyRows(items: readonly ApplyRecord[]): [string[], string[][]] {
  return [
    ['SERIAL', 'APPLIED', 'BY', 'REVISION', 'CHANGES', 'AUTHOR', 'SUBJECT'],
    items.map((a) => [
      String(a.serial),
      utcText(a.appliedAt),
      a.appliedBy,
      shortRevision(a.revision),
      changesText(a.summary),
      a.commit?.author ?? '-',
      a.commit?.subject ?? '-',
    ]),
  ];
}

const SYMBOLS = { create: '+', update: '~', delete: '-', move: '->' } as const;

function applyText(a: ApplyDetail): string {
  const lines = [
    `serial:   ${a.serial}`,
    `applied:  ${utcText(a.appliedAt)} by ${a.appliedBy}`,
    `revision: ${a.revision ?? '-'}`,
    ...(a.commit === null ? [] : [`commit:   ${a.commit.author ?? '-'}: ${a.commit.subject ?? ''}`]),
    `changes:  ${changesText(a.summary)}`,
    ...a.changes.map((c) => {
      const fields = c.fields.length > 0 ? ` (${c.fields.join(', ')})` : '';
      const from = c.previous_address === undefined ? '' : `${c.previous_address} -> `;
      return `  ${SYMBOLS[c.action]} ${from}${c.address}${fields}`;
    }),
  ];
  return `${lines.join('\n')}\n`;
}
