import { checkCron, checkDatabaseName, checkDuration, checkIsoTime, checkTimezone } from './check-values.ts';
import { checkExtraArg, PG_DUMP_OPTIONS, PG_DUMPALL_OPTIONS, PG_RESTORE_OPTIONS } from './extra-args.ts';
import type { BackupServer, DumpSettings, PgSQLNode } from './generated/manifest-types.ts';
import type { Kind } from './kinds.ts';
import { resolveSettings } from './resolve-settings.ts';
import type { Resource, ResourceOf } from './resource.ts';
import { didYouMean } from './suggest.ts';
import type { Issue } from './validate-schema.ts';

export interface SemanticIssue extends Issue {
  readonly resource: Resource;
}

type Names = ReadonlyMap<Kind, ReadonlySet<string>>;

/**
 * Checks what a schema cannot: references resolve, schedules and times parse, settings agree once defaults
 * are applied, extra arguments are allow-listed, and a restore cannot drop the database it reads from.
 * `names` holds every Kind/name seen, valid or not, so one broken object does not cascade into others.
 */
export function validateSemantics(resources: readonly Resource[], names: Names): SemanticIssue[] {
  const byKind = new Map<Kind, Map<string, Resource>>();
  for (const r of resources) {
    const map = byKind.get(r.kind) ?? new Map<string, Resource>();
    map.set(r.name, r);
    byKind.set(r.kind, map);
  }
  const get = <K extends Kind>(kind: K, name: string | undefined) =>
    name === undefined ? undefined : (byKind.get(kind)?.get(name) as ResourceOf<K> | undefined);
  const issues: SemanticIssue[] = [];
  for (const resource of resources) {
    const report = (pointer: string, message: string | undefined): void => {
      if (message !== undefined) issues.push({ resource, pointer, message });
    };
    const ref = (pointer: string, kind: Kind, name: string | undefined): void => {
      if (name === undefined || names.get(kind)?.has(name)) return;
      const known = [...(names.get(kind) ?? [])];
      const hint = known.length === 0 ? `; no ${kind} is defined` : didYouMean(name, known);
      report(pointer, `${kind} "${name}" is not defined${hint}`);
    };
    try {
      checkResource(resource, report, ref, get);
    } catch {
      // A value of the wrong shape that its schema errors already describe; nothing more to say here.
    }
  }
  return issues;
}

type Report = (pointer: string, message: string | undefined) => void;
type Ref = (pointer: string, kind: Kind, name: string | undefined) => void;
type Get = <K extends Kind>(kind: K, name: string | undefined) => ResourceOf<K> | undefined;

function checkResource(resource: Resource, report: Report, ref: Ref, get: Get): void {
  const m = resource.manifest;
  switch (m.kind) {
    case 'BackupServer':
      checkSettings(report, '/spec/defaults', m.spec.defaults ?? {});
      break;
    case 'PgSQLNode': {
      checkSettings(report, '/spec/defaults', m.spec.defaults ?? {});
      checkArgs(report, '/spec/restoreExtraArgs', m.spec.restoreExtraArgs, 'pg_restore');
      const w = m.spec.backupWindow;
      if (w !== undefined) {
        const days = `0 0 ${w.daysOfMonth ?? '*'} ${w.months ?? '*'} ${w.daysOfWeek ?? '*'}`;
        const problem = checkCron(days);
        if (problem !== undefined)
          report('/spec/backupWindow', `the window's days do not form a valid cron: ${problem}`);
      }
      break;
    }
    case 'BackupDefinition':
    case 'SnapshotDefinition': {
      ref('/spec/server', 'BackupServer', m.spec.server);
      ref('/spec/node', 'PgSQLNode', m.spec.node);
      const node = get('PgSQLNode', m.spec.node)?.manifest;
      const server = get('BackupServer', m.spec.server)?.manifest;
      const own: DumpSettings =
        m.kind === 'BackupDefinition' ? m.spec : { ...m.spec, retention: m.spec.retention ?? {} };
      checkDump(report, own, m.spec.database, node, server);
      if (m.kind === 'BackupDefinition') {
        report('/spec/schedule', m.spec.schedule === undefined ? undefined : checkCron(m.spec.schedule));
      } else {
        report('/spec/at', checkIsoTime(m.spec.at));
      }
      break;
    }
    case 'RestoreDefinition': {
      const { source, target } = m.spec;
      const named = (['definition', 'snapshot', 'backupId'] as const).filter((k) => source[k] !== undefined);
      if (named.length !== 1) {
        report(
          '/spec/source',
          `name exactly one of definition, snapshot, backupId (found ${named.length === 0 ? 'none' : named.join(', ')})`,
        );
      }
      if (source.before !== undefined) {
        if (source.backupId !== undefined)
          report(
            '/spec/source/before',
            '"before" selects among a definition\'s or snapshot\'s dumps; it cannot be used with backupId',
          );
        report('/spec/source/before', checkIsoTime(source.before));
      }
      ref('/spec/source/definition', 'BackupDefinition', source.definition);
      ref('/spec/source/snapshot', 'SnapshotDefinition', source.snapshot);
      ref('/spec/target/node', 'PgSQLNode', target.node);
      ref('/spec/server', 'BackupServer', m.spec.server);
      if (m.spec.at !== undefined) report('/spec/at', checkIsoTime(m.spec.at));
      checkArgs(report, '/spec/extraArgs', m.spec.extraArgs, 'pg_restore');
      if (m.spec.renameExistingTo !== undefined && m.spec.existing !== 'rename') {
        report('/spec/renameExistingTo', 'renameExistingTo is only used with existing: rename');
      }
      if (m.spec.renameExistingTo !== undefined)
        report('/spec/renameExistingTo', checkDatabaseName(m.spec.renameExistingTo));
      if (target.database !== undefined) report('/spec/target/database', checkDatabaseName(target.database));
      const from = get('BackupDefinition', source.definition) ?? get('SnapshotDefinition', source.snapshot);
      if (
        source.backupId === undefined &&
        m.spec.server === undefined &&
        from === undefined &&
        named.length === 1
      ) {
        break; // the reference error above already says what is wrong
      }
      if (from !== undefined) {
        const node = get('PgSQLNode', from.manifest.spec.node)?.manifest;
        const server = get('BackupServer', from.manifest.spec.server)?.manifest;
        const { code } = resolveSettings(from.manifest.spec, node, server);
        if (code !== 'FULL' && code !== 'SCHEMA') {
          report(
            '/spec/source',
            `${from.kind}/${from.name} takes ${code} dumps; a restore needs FULL or SCHEMA dumps`,
          );
        }
        const sameTarget =
          target.node === from.manifest.spec.node &&
          (target.database ?? from.manifest.spec.database) === from.manifest.spec.database;
        if (m.spec.existing === 'drop' && sameTarget) {
          report(
            '/spec/existing',
            `existing: drop would drop ${from.manifest.spec.database ?? 'the database'} on ${target.node}, the database this restore reads its dumps from; restore into another database or node, or use existing: rename`,
          );
        }
      }
      break;
    }
    case 'BackupPolicy': {
      ref('/spec/server', 'BackupServer', m.spec.server);
      for (const [i, node] of (m.spec.nodeSelector.names ?? []).entries()) {
        ref(`/spec/nodeSelector/names/${i}`, 'PgSQLNode', node);
      }
      const template = m.spec.template ?? {};
      checkSettings(report, '/spec/template', template);
      if (template.schedule !== undefined) report('/spec/template/schedule', checkCron(template.schedule));
      if (template.code === 'CLUSTER')
        report(
          '/spec/template/code',
          'a policy makes one definition per database; CLUSTER dumps a whole node: write a BackupDefinition instead',
        );
      if (m.spec.deletedDatabaseRetention !== undefined)
        report('/spec/deletedDatabaseRetention', checkDuration(m.spec.deletedDatabaseRetention));
      for (const list of ['include', 'exclude'] as const) {
        for (const [i, pattern] of (m.spec.databases?.[list] ?? []).entries()) {
          if (/[/\\`$;|&<>\u0000-\u001f]/.test(pattern))
            report(
              `/spec/databases/${list}/${i}`,
              `pattern "${pattern}" contains a character a database name cannot have here`,
            );
        }
      }
      break;
    }
    default:
      assertNever(m);
  }
}

/** The checks on settings that hold whatever fills the gaps later. */
function checkSettings(report: Report, at: string, s: DumpSettings): void {
  if (s.timezone !== undefined) report(`${at}/timezone`, checkTimezone(s.timezone));
  if (s.retention?.period !== undefined) report(`${at}/retention/period`, checkDuration(s.retention.period));
  const tool = s.code === 'CLUSTER' ? 'pg_dumpall' : 'pg_dump';
  checkArgs(report, `${at}/extraArgs`, s.extraArgs, tool);
}

/** The checks on a definition's or snapshot's settings once its node's and server's defaults are applied. */
function checkDump(
  report: Report,
  own: DumpSettings,
  database: string | undefined,
  node: PgSQLNode | undefined,
  server: BackupServer | undefined,
): void {
  checkSettings(report, '/spec', own);
  const s = resolveSettings(own, node, server);
  const at = (field: keyof DumpSettings) => (own[field] === undefined ? '/spec' : `/spec/${field}`);
  if (s.code === 'CLUSTER') {
    if (database !== undefined)
      report(
        '/spec/database',
        'a CLUSTER dump covers the whole node (pg_dumpall); remove database, or choose FULL, SCHEMA or DATA',
      );
    if (own.format !== undefined && own.format !== 'plain')
      report('/spec/format', 'a CLUSTER dump is plain SQL (pg_dumpall); remove format');
    if (own.jobs !== undefined && own.jobs > 1)
      report('/spec/jobs', 'a CLUSTER dump cannot use parallel jobs');
    if (own.extraArgs === undefined) checkArgs(report, at('extraArgs'), s.extraArgs, 'pg_dumpall');
    return;
  }
  if (database === undefined)
    report('/spec', `missing required field "database" (a ${s.code} dump is of one database)`);
  else report('/spec/database', checkDatabaseName(database));
  if (s.jobs > 1 && s.format !== 'directory')
    report(at('jobs'), `jobs: ${s.jobs} needs format: directory (the format is ${s.format})`);
  if (s.format === 'tar' && s.compression !== undefined && s.compression !== 0 && s.compression !== 'none') {
    report(
      at('compression'),
      'format tar cannot be compressed by pg_dump; remove compression or choose another format',
    );
  }
}

function checkArgs(
  report: Report,
  at: string,
  args: readonly string[] | undefined,
  tool: 'pg_dump' | 'pg_dumpall' | 'pg_restore',
): void {
  const allowed =
    tool === 'pg_dump' ? PG_DUMP_OPTIONS : tool === 'pg_dumpall' ? PG_DUMPALL_OPTIONS : PG_RESTORE_OPTIONS;
  for (const [i, arg] of (args ?? []).entries()) report(`${at}/${i}`, checkExtraArg(arg, allowed, tool));
}

function assertNever(value: never): never {
  throw new Error(`unhandled manifest kind: ${JSON.stringify(value)}`);
}
