import { assertNever } from '../errors.ts';
import { checkBinDirectories } from './check-bin-directories.ts';
import { checkArgs, checkDump, checkEncryption, checkSettings } from './check-dump-settings.ts';
import { checkPolicy } from './check-policy.ts';
import { checkRestore } from './check-restore.ts';
import { checkStorage } from './check-storage.ts';
import { checkCron, checkDuration, checkIsoTime } from './check-values.ts';
import type { Kind } from './kinds.ts';
import { resolveSettings } from './resolve-settings.ts';
import type { Resource, ResourceOf } from './resource.ts';
import type { SemanticContext } from './semantic-context.ts';
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
    if (!map.has(r.name)) map.set(r.name, r);
    byKind.set(r.kind, map);
  }
  const issues: SemanticIssue[] = [];
  for (const resource of resources) {
    const ctx: SemanticContext = {
      report(pointer, message, severity) {
        if (message === undefined) return;
        issues.push(
          severity === undefined ? { resource, pointer, message } : { resource, pointer, message, severity },
        );
      },
      ref(pointer, kind, name) {
        if (name === undefined || names.get(kind)?.has(name)) return;
        const known = [...(names.get(kind) ?? [])];
        const hint = known.length === 0 ? `; no ${kind} is defined` : didYouMean(name, known);
        ctx.report(pointer, `${kind} "${name}" is not defined${hint}`);
      },
      get: <K extends Kind>(kind: K, name: string | undefined) =>
        name === undefined ? undefined : (byKind.get(kind)?.get(name) as ResourceOf<K> | undefined),
      all: <K extends Kind>(kind: K) => [...(byKind.get(kind)?.values() ?? [])] as ResourceOf<K>[],
    };
    try {
      checkResource(ctx, resource);
    } catch {
      // A value of the wrong shape that its schema errors already describe; nothing more to say here.
    }
  }
  return issues;
}

function checkResource(ctx: SemanticContext, resource: Resource): void {
  const m = resource.manifest;
  switch (m.kind) {
    case 'BackupServer':
      checkSettings(ctx.report, '/spec/defaults', m.spec.defaults ?? {});
      checkBinDirectories(ctx.report, m.spec.pgBinDirectories as Record<string, string> | undefined);
      checkStorage(ctx.report, m.spec);
      if (m.spec.encryption !== undefined) {
        checkEncryption(ctx.report, '/spec/encryption', m.spec.encryption);
        if (m.spec.defaults?.encryption !== undefined)
          ctx.report(
            '/spec/encryption',
            'encryption is set both here and in spec.defaults.encryption, which would win: keep one',
          );
      }
      return;
    case 'PgSQLNode': {
      checkSettings(ctx.report, '/spec/defaults', m.spec.defaults ?? {});
      checkArgs(ctx.report, '/spec/restoreExtraArgs', m.spec.restoreExtraArgs, 'pg_restore');
      const w = m.spec.backupWindow;
      if (w === undefined) return;
      const days = `0 0 ${w.daysOfMonth ?? '*'} ${w.months ?? '*'} ${w.daysOfWeek ?? '*'}`;
      const problem = checkCron(days);
      if (problem !== undefined)
        ctx.report('/spec/backupWindow', `the window's days do not form a valid cron: ${problem}`);
      if ((w.start ?? '01:00') === (w.end ?? '06:59')) {
        ctx.report(
          '/spec/backupWindow',
          `the window starts and ends at ${w.start ?? '01:00'}, so it is empty`,
        );
      }
      return;
    }
    case 'BackupDefinition':
    case 'SnapshotDefinition': {
      ctx.ref('/spec/server', 'BackupServer', m.spec.server);
      ctx.ref('/spec/node', 'PgSQLNode', m.spec.node);
      const node = ctx.get('PgSQLNode', m.spec.node);
      const server = ctx.get('BackupServer', m.spec.server);
      // Its own storage list, under the same rules as its server's, at that server's root directory.
      if (m.spec.storage !== undefined)
        checkStorage(ctx.report, {
          hostname: server?.manifest.spec.hostname ?? '',
          ...(server?.manifest.spec.rootDirectory === undefined
            ? {}
            : { rootDirectory: server.manifest.spec.rootDirectory }),
          storage: m.spec.storage,
        });
      if (m.kind === 'BackupDefinition') {
        checkDump(ctx.report, m.spec, m.spec.database, node, server);
        if (m.spec.schedule !== undefined) ctx.report('/spec/schedule', checkCron(m.spec.schedule));
        if (m.spec.verify !== undefined) {
          ctx.ref('/spec/verify/node', 'PgSQLNode', m.spec.verify.node);
          ctx.report('/spec/verify/every', checkDuration(m.spec.verify.every));
          if (m.spec.verify.timeout !== undefined)
            ctx.report('/spec/verify/timeout', checkDuration(m.spec.verify.timeout));
          if (resolveSettings(m.spec, node?.manifest, server?.manifest).code === 'CLUSTER')
            ctx.report(
              '/spec/verify',
              "a restore test restores one database's dump; a CLUSTER definition has none",
            );
        }
      } else {
        checkDump(
          ctx.report,
          { ...m.spec, retention: m.spec.retention ?? {} },
          m.spec.database,
          node,
          server,
        );
        ctx.report('/spec/at', checkIsoTime(m.spec.at));
      }
      return;
    }
    case 'RestoreDefinition':
      checkRestore(ctx, m);
      return;
    case 'BackupPolicy':
      checkPolicy(ctx, m);
      return;
    default:
      assertNever(m);
  }
}
