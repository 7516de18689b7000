import { stringify } from 'yaml';
import { type BackupRun, lastRuns, listBackups } from '../../catalogue/backup-runs.ts';
import type { Queryable } from '../../catalogue/catalogue-db.ts';
import { copiesOf } from '../../catalogue/dump-copies.ts';
import { type CatalogueObject, listObjects, type ObjectFilter } from '../../catalogue/list-objects.ts';
import { requireCurrentSchema } from '../../catalogue/migrate.ts';
import { withCatalogue } from '../../catalogue/open-catalogue.ts';
import { assertNever, PgbackmanError } from '../../errors.ts';
import type { Kind } from '../../manifest/kinds.ts';
import { GENERATED_BY } from '../../policy/generated-name.ts';
import { type DefinitionView, definitionView, parentsOf } from '../../schedule/definition-schedule.ts';
import { sinceFlag } from '../duration-flag.ts';
import { ExitCode } from '../exit-codes.ts';
import { checkGetFilters } from '../get-filters.ts';
import { humanBytes } from '../human-bytes.ts';
import type { Output } from '../output.ts';
import { renderTable } from '../render-table.ts';
import { runStateText } from '../run-state-text.ts';
import { nextRunText, scheduleText } from '../schedule-text.ts';

export const RESOURCES: Readonly<Record<string, Kind | 'backups'>> = {
  servers: 'BackupServer',
  nodes: 'PgSQLNode',
  definitions: 'BackupDefinition',
  snapshots: 'SnapshotDefinition',
  restoredefinitions: 'RestoreDefinition',
  policies: 'BackupPolicy',
  backups: 'backups',
};

export interface GetFlags {
  readonly output: 'table' | 'json' | 'yaml';
  readonly server?: string;
  readonly node?: string;
  readonly database?: string;
  readonly status?: string;
  /** Deleted dumps too. */
  readonly all?: boolean;
  readonly verify?: string;
  readonly since?: string;
  readonly limit?: number;
  /** databases only: those no definition or policy covers. */
  readonly uncovered?: boolean;
  /** definitions only: those whose last run failed (after their last success, if any). */
  readonly failing?: boolean;
  /** definitions only: those with no successful dump yet. */
  readonly neverSucceeded?: boolean;
  readonly secretsDir?: string | undefined;
}

/** `pgbackman get RESOURCE`: a table for people, JSON or YAML for scripts. */
export async function runGet(
  resource: string,
  location: string,
  flags: GetFlags,
  output: Output,
): Promise<ExitCode> {
  checkGetFilters(resource, flags);
  if (resource === 'agents' || resource === 'agent') {
    const { runGetAgents } = await import('./get-agents.ts');
    return runGetAgents(location, flags, output);
  }
  if (resource === 'restores' || resource === 'restore') {
    const { runGetRestores } = await import('./get-restores.ts');
    return runGetRestores(location, flags, output);
  }
  if (resource === 'databases' || resource === 'database') {
    const { runGetDatabases } = await import('./get-databases.ts');
    return runGetDatabases(location, flags, output);
  }
  const what = RESOURCES[resource] ?? RESOURCES[`${resource}s`];
  if (what === undefined)
    throw new PgbackmanError(
      'USAGE',
      `unknown resource "${resource}"; one of ${[...Object.keys(RESOURCES), 'restores', 'agents', 'databases'].join(', ')}`,
    );
  return withCatalogue(location, 'get', async (db) => {
    await requireCurrentSchema(db);
    const filter = { ...pick(flags, ['server', 'node', 'database']) };
    const items =
      what === 'backups'
        ? await listBackups(db, {
            ...filter,
            ...pick(flags, ['status', 'verify', 'limit']),
            ...(flags.all === true ? { includeDeleted: true } : {}),
            ...(flags.since ? { since: sinceFlag(flags.since) } : {}),
          })
        : what === 'BackupDefinition'
          ? await definitionViews(db, filter, flags)
          : await listObjects(db, what, filter);
    // Each dump's copies at further destinations ride along in json and yaml (`copies`, [] when none).
    const shown =
      what === 'backups' && flags.output !== undefined && flags.output !== 'table'
        ? await withCopies(db, items as BackupRun[])
        : items;
    if (flags.output === 'json') output.out.write(`${JSON.stringify(shown, null, 2)}\n`);
    else if (flags.output === 'yaml') output.out.write(stringify(shown));
    else if (items.length === 0) output.err.write(`No ${resource} found.\n`);
    else {
      const width = process.stdout.isTTY ? process.stdout.columns : undefined;
      const [headers, rows] =
        what === 'backups' ? backupRows(items as BackupRun[]) : objectRows(what, items as CatalogueObject[]);
      output.out.write(renderTable(headers, rows, width));
    }
    return ExitCode.Ok;
  });
}

/**
 * Definitions with their resolved schedule, next run and effective settings (which need their nodes and
 * servers); --failing and --never-succeeded keep those whose last runs say so.
 */
async function definitionViews(
  db: Queryable,
  filter: ObjectFilter,
  flags: Pick<GetFlags, 'failing' | 'neverSucceeded'>,
): Promise<DefinitionView[]> {
  const definitions = await listObjects(db, 'BackupDefinition', filter);
  const parents = parentsOf(await listObjects(db, 'PgSQLNode'), await listObjects(db, 'BackupServer'));
  const now = new Date();
  const views = definitions.map((d) => definitionView(d, parents, now));
  if (flags.failing !== true && flags.neverSucceeded !== true) return views;
  const runs = new Map(
    (await lastRuns(db, filter.server === undefined ? {} : { server: filter.server }))
      .filter((r) => r.kind === 'BackupDefinition')
      .map((r) => [r.name, r]),
  );
  return views.filter((v) => {
    const r = runs.get(v.name);
    // FAILING as `status` says it: a failure newer than the last success.
    if (flags.failing === true && (r?.lastFailure ?? null) === null) return false;
    if (flags.neverSucceeded === true && (r?.lastSuccess ?? null) !== null) return false;
    return true;
  });
}

function pick<T extends object, K extends keyof T>(o: T, keys: K[]): Partial<Pick<T, K>> {
  return Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]])) as Partial<
    Pick<T, K>
  >;
}

function objectRows(kind: Kind, items: CatalogueObject[]): [string[], string[][]] {
  const s = (o: CatalogueObject, ...path: string[]) => {
    let v: unknown = o.spec;
    for (const p of path)
      v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[p] : undefined;
    return v === undefined || v === null ? '-' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  };
  const flags = (o: CatalogueObject) =>
    [
      o.spec.suspend === true ? 'suspended' : '',
      o.managed ? '' : 'unmanaged',
      o.annotations[GENERATED_BY]?.replace(/^BackupPolicy\//, 'policy:') ?? '',
    ]
      .filter(Boolean)
      .join(',') || '-';
  switch (kind) {
    case 'BackupServer':
      return [
        ['NAME', 'HOSTNAME', 'ROOT', 'MAX DUMPS', 'FLAGS'],
        items.map((o) => [
          o.name,
          s(o, 'hostname'),
          s(o, 'rootDirectory'),
          s(o, 'maxConcurrentDumps'),
          flags(o),
        ]),
      ];
    case 'PgSQLNode':
      return [
        ['NAME', 'HOST', 'PORT', 'USER', 'LABELS', 'FLAGS'],
        items.map((o) => [
          o.name,
          s(o, 'host'),
          s(o, 'port'),
          s(o, 'user'),
          Object.entries(o.labels)
            .map(([k, v]) => `${k}=${v}`)
            .join(',') || '-',
          flags(o),
        ]),
      ];
    case 'BackupDefinition':
      return [
        [
          'NAME',
          'SERVER',
          'NODE',
          'DATABASE',
          'CODE',
          'SCHEDULE',
          'RESOLVED',
          'NEXT RUN',
          'RETENTION',
          'FLAGS',
        ],
        (items as DefinitionView[]).map((o) => [
          o.name,
          s(o, 'server'),
          s(o, 'node'),
          s(o, 'database'),
          inheritedText(o.effective.code, o.inherited.code),
          s(o, 'schedule'),
          scheduleText(o.resolvedSchedule),
          nextRunText(o.nextRunAt, o.suspended),
          inheritedText(retentionText(o.effective.retention), o.inherited.retention),
          flags(o),
        ]),
      ];
    case 'SnapshotDefinition':
      return [
        ['NAME', 'SERVER', 'NODE', 'DATABASE', 'CODE', 'AT', 'FLAGS'],
        items.map((o) => [
          o.name,
          s(o, 'server'),
          s(o, 'node'),
          s(o, 'database'),
          s(o, 'code'),
          s(o, 'at'),
          flags(o),
        ]),
      ];
    case 'RestoreDefinition':
      return [
        ['NAME', 'SOURCE', 'TARGET NODE', 'TARGET DATABASE', 'EXISTING', 'AT', 'FLAGS'],
        items.map((o) => [
          o.name,
          s(o, 'source'),
          s(o, 'target', 'node'),
          s(o, 'target', 'database'),
          s(o, 'existing'),
          s(o, 'at'),
          flags(o),
        ]),
      ];
    case 'BackupPolicy':
      return [
        ['NAME', 'SERVER', 'NODES', 'DATABASES', 'FLAGS'],
        items.map((o) => [o.name, s(o, 'server'), s(o, 'nodeSelector'), s(o, 'databases'), flags(o)]),
      ];
    default:
      return assertNever(kind);
  }
}

/** An effective setting, with where it comes from when the definition does not set it itself. */
function inheritedText(value: string, from: string | undefined): string {
  return from === undefined ? value : `${value} (${from === 'builtin' ? 'default' : from})`;
}

function retentionText(r: DefinitionView['effective']['retention']): string {
  const tiers = r.keep === undefined ? [] : Object.entries(r.keep).map(([tier, n]) => `${n} ${tier}`);
  return [r.period, ...tiers, `keep ${r.redundancy}`].filter((x) => x !== undefined).join(', ');
}

export function backupRows(items: BackupRun[]): [string[], string[][]] {
  return [
    [
      'ID',
      'STATUS',
      'VERIFY',
      'SERVER',
      'NODE',
      'DATABASE',
      'CODE',
      'DEFINITION',
      'STARTED',
      'DURATION',
      'SIZE',
    ],
    items.map((b) => [
      b.id.slice(0, 8),
      runStateText(b),
      b.verifyStatus ?? '-',
      b.server,
      b.node,
      b.database ?? '-',
      b.code,
      b.definition ?? `snapshot:${b.snapshot}`,
      b.startedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
      b.durationMs === null ? '-' : `${(b.durationMs / 1000).toFixed(1)}s`,
      b.dumpBytes === null ? '-' : humanBytes(b.dumpBytes),
    ]),
  ];
}

/** The dumps, each with its copies at further destinations (without the run id each copy repeats). */
async function withCopies(db: Queryable, runs: readonly BackupRun[]): Promise<unknown[]> {
  const copies = await copiesOf(
    db,
    runs.map((r) => r.id),
  );
  return runs.map((r) => ({ ...r, copies: (copies.get(r.id) ?? []).map(({ runId: _run, ...c }) => c) }));
}
