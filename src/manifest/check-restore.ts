import { checkArgs } from './check-dump-settings.ts';
import { checkDatabaseName, checkDuration, checkIsoTime } from './check-values.ts';
import type { RestoreDefinition } from './generated/manifest-types.ts';
import { resolveSettings } from './resolve-settings.ts';
import type { SemanticContext } from './semantic-context.ts';

/** A restore must name one source that can be restored, and must not destroy what it restores from. */
export function checkRestore(ctx: SemanticContext, m: RestoreDefinition): void {
  const { source, target, existing = 'fail', jobs = 1 } = m.spec;
  const named = (['definition', 'snapshot', 'backupId'] as const).filter((k) => source[k] !== undefined);
  if (named.length !== 1) {
    ctx.report(
      '/spec/source',
      `name exactly one of definition, snapshot, backupId (found ${named.length === 0 ? 'none' : named.join(', ')})`,
    );
  }
  if (source.before !== undefined) {
    if (source.definition === undefined) {
      ctx.report(
        '/spec/source/before',
        '"before" picks among the dumps of a definition; use it with source.definition only',
      );
    }
    ctx.report('/spec/source/before', checkIsoTime(source.before));
  }
  ctx.ref('/spec/source/definition', 'BackupDefinition', source.definition);
  ctx.ref('/spec/source/snapshot', 'SnapshotDefinition', source.snapshot);
  ctx.ref('/spec/target/node', 'PgSQLNode', target.node);
  ctx.ref('/spec/server', 'BackupServer', m.spec.server);
  if (m.spec.at !== undefined) ctx.report('/spec/at', checkIsoTime(m.spec.at));
  if (m.spec.timeout !== undefined) ctx.report('/spec/timeout', checkDuration(m.spec.timeout));
  checkArgs(ctx.report, '/spec/extraArgs', m.spec.extraArgs, 'pg_restore');
  if (jobs > 1 && m.spec.extraArgs?.includes('--single-transaction')) {
    ctx.report(
      '/spec/jobs',
      'pg_restore cannot use parallel jobs with --single-transaction; remove one of them',
    );
  }
  if (m.spec.renameExistingTo !== undefined) {
    if (existing !== 'rename')
      ctx.report('/spec/renameExistingTo', 'renameExistingTo is only used with existing: rename');
    ctx.report('/spec/renameExistingTo', checkDatabaseName(m.spec.renameExistingTo));
  }
  if (target.database !== undefined) ctx.report('/spec/target/database', checkDatabaseName(target.database));
  if (
    source.backupId !== undefined &&
    !/^[0-9a-f]{8}(-?[0-9a-f]{1,4}){0,7}[0-9a-f-]*$/i.test(source.backupId)
  )
    ctx.report(
      '/spec/source/backupId',
      `"${source.backupId}" is not a backup id (as \`pgbackman get backups\` shows them)`,
    );
  if (source.backupId !== undefined && m.spec.server === undefined) {
    ctx.report(
      '/spec/server',
      'a restore of a backup by id needs spec.server: the backup server that holds the dump',
    );
  }

  const from =
    ctx.get('BackupDefinition', source.definition) ?? ctx.get('SnapshotDefinition', source.snapshot);
  if (from === undefined) return;
  const spec = from.manifest.spec;
  const settings = resolveSettings(
    spec,
    ctx.get('PgSQLNode', spec.node)?.manifest,
    ctx.get('BackupServer', spec.server)?.manifest,
  );
  const what = `${from.kind}/${from.name}`;
  if (settings.code === 'DATA') {
    ctx.report(
      '/spec/source',
      `${what} takes DATA dumps; a restore needs FULL, SCHEMA or CLUSTER dumps (a DATA dump goes into a database that has its tables: \`pgbackman restore\`)`,
    );
  }
  if (settings.code === 'CLUSTER') {
    checkClusterRestore(ctx, m, what, spec.node);
    return;
  }
  if (jobs > 1 && settings.format !== 'custom' && settings.format !== 'directory') {
    ctx.report(
      '/spec/jobs',
      `${what} writes ${settings.format} dumps; parallel restore needs format custom or directory`,
    );
  }
  if (m.spec.server !== undefined && m.spec.server !== spec.server) {
    ctx.report(
      '/spec/server',
      `${what}'s dumps are kept by BackupServer/${spec.server}, not ${m.spec.server}`,
    );
  }
  const snapshot = ctx.get('SnapshotDefinition', source.snapshot)?.manifest.spec.at;
  if (snapshot !== undefined && m.spec.at !== undefined && Date.parse(m.spec.at) < Date.parse(snapshot)) {
    ctx.report('/spec/at', `the restore is due before ${what} is taken (${snapshot})`);
  }
  const sameDatabase = (target.database ?? spec.database) === spec.database;
  if (existing === 'drop' && target.node === spec.node && sameDatabase) {
    ctx.report(
      '/spec/existing',
      `existing: drop would drop ${spec.database ?? 'the database'} on ${target.node}, the database this restore reads its dumps from; restore into another database or node, or use existing: rename`,
    );
  }
}

/** A CLUSTER dump restores every database of a node under its own name, with psql: what does not apply to it. */
function checkClusterRestore(ctx: SemanticContext, m: RestoreDefinition, what: string, node: string): void {
  const { target, existing = 'fail', jobs = 1 } = m.spec;
  const every = `${what} takes CLUSTER dumps, which restore every database of the node under its own name`;
  if (target.database !== undefined) ctx.report('/spec/target/database', `${every}: remove target.database`);
  if (m.spec.renameExistingTo !== undefined)
    ctx.report(
      '/spec/renameExistingTo',
      `${every}: each existing one is renamed to <name>_<UTC timestamp>; remove renameExistingTo`,
    );
  if (jobs > 1)
    ctx.report(
      '/spec/jobs',
      `${what} takes CLUSTER dumps, restored with psql one database at a time: remove jobs`,
    );
  if (m.spec.extraArgs !== undefined && m.spec.extraArgs.length > 0)
    ctx.report(
      '/spec/extraArgs',
      `${what} takes CLUSTER dumps, restored with psql: pg_restore's extraArgs do not apply; remove them`,
    );
  if (existing === 'drop' && target.node === node)
    ctx.report(
      '/spec/existing',
      `existing: drop would drop the databases of ${node}, the node this restore reads its dumps from; restore onto another node, or use existing: rename`,
    );
}
