import { assertNever } from '../errors.ts';

export type ExistingPolicy = 'fail' | 'rename' | 'drop';
export type RolesPolicy = 'create-missing' | 'skip';
export type DumpFormat = 'custom' | 'directory' | 'tar' | 'plain';

/** What the user asked for (flags or a RestoreDefinition), with defaults applied. */
export interface RestoreRequest {
  readonly database: string;
  readonly existing: ExistingPolicy;
  readonly renameTo: string | undefined;
  readonly roles: RolesPolicy;
  readonly config: boolean;
  readonly jobs: number;
  readonly terminate: boolean;
  /** pg_restore options from the allow-list (a RestoreDefinition's extraArgs, checked when it was validated). */
  readonly extraArgs: readonly string[];
  /**
   * Who asked, so a refusal names the flag or the manifest field that would change it (the command line by
   * default); `cluster` and `manifest-cluster`: one database of a CLUSTER dump, which has no other name to take.
   */
  readonly via?: 'cli' | 'manifest' | 'cluster' | 'manifest-cluster';
}

/** The dump, as the catalogue (or its backup.json) describes it. */
export interface DumpFacts {
  readonly code: 'FULL' | 'SCHEMA' | 'DATA' | 'CLUSTER';
  readonly format: DumpFormat;
  readonly hasRoles: boolean;
  readonly hasConfig: boolean;
}

/** What the target node said just before the restore. */
export interface TargetFacts {
  readonly exists: boolean;
  /** Other sessions connected to the target database. */
  readonly connections: number;
  /** The target is the dump's own node and database. */
  readonly isSource: boolean;
  /** The name an existing database would be renamed to is taken already. */
  readonly renameTaken: boolean;
  readonly rolesToCreate: readonly string[];
  readonly rolesPresent: readonly string[];
}

export type RestoreStep =
  | { readonly kind: 'check-dump' }
  | { readonly kind: 'create-roles'; readonly roles: readonly string[] }
  | { readonly kind: 'keep-roles'; readonly roles: readonly string[] }
  | { readonly kind: 'terminate-connections'; readonly database: string; readonly sessions: number }
  | { readonly kind: 'rename-database'; readonly from: string; readonly to: string }
  | { readonly kind: 'drop-database'; readonly database: string }
  | { readonly kind: 'create-database'; readonly database: string; readonly config: boolean }
  | {
      readonly kind: 'restore-data';
      readonly tool: 'pg_restore' | 'psql';
      readonly into: 'new' | 'existing';
    };

export type RestoreDecision =
  | { readonly ok: true; readonly steps: readonly RestoreStep[] }
  | { readonly ok: false; readonly reason: string };

/** `<name>_<UTC timestamp>`, cut so it stays within PostgreSQL's 63 bytes. */
export function defaultRenameTo(database: string, now: Date): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, '')
    .replace('T', '_');
  let base = database;
  while (Buffer.byteLength(`${base}_${stamp}`) > 63) base = base.slice(0, -1);
  return `${base}_${stamp}`;
}

/**
 * The steps of one restore, in order, or why it must not start. Pure: every refusal happens here, before
 * anything on the target is touched.
 */
export function decideRestore(dump: DumpFacts, req: RestoreRequest, target: TargetFacts): RestoreDecision {
  const refuse = (reason: string): RestoreDecision => ({ ok: false, reason });
  const say = (cli: string, manifest: string, cluster = cli, manifestCluster = manifest) =>
    req.via === 'manifest'
      ? manifest
      : req.via === 'cluster'
        ? cluster
        : req.via === 'manifest-cluster'
          ? manifestCluster
          : cli;
  const db = req.database;
  if (dump.code === 'CLUSTER')
    return refuse(
      "a CLUSTER dump restores a whole node (`pgbackman restore`, a RestoreDefinition); a restore test restores one database's dump",
    );
  const steps: RestoreStep[] = [{ kind: 'check-dump' }];
  if (req.roles === 'create-missing' && dump.hasRoles) {
    if (target.rolesToCreate.length > 0) steps.push({ kind: 'create-roles', roles: target.rolesToCreate });
    if (target.rolesPresent.length > 0) steps.push({ kind: 'keep-roles', roles: target.rolesPresent });
  }
  // A data-only dump fills the tables of a database that has them: it goes into the existing one.
  if (dump.code === 'DATA') {
    if (!target.exists)
      return refuse(
        `database "${db}" does not exist: a DATA dump restores into a database that has its tables`,
      );
    steps.push({ kind: 'restore-data', tool: toolFor(dump.format), into: 'existing' });
    return { ok: true, steps };
  }
  if (target.exists) {
    const existing = req.existing;
    switch (existing) {
      case 'fail':
        return refuse(
          `database "${db}" exists on the target; nothing was touched (${say('--existing rename or drop, or --database another name', 'existing: rename or drop, or another target.database', '--existing rename or drop', 'existing: rename or drop')})`,
        );
      case 'drop':
        if (target.isSource)
          return refuse(
            `database "${db}" is the dump's own source: dropping it is refused (${say('--existing rename', 'existing: rename')})`,
          );
        break;
      case 'rename':
        if (target.renameTaken)
          return refuse(
            `database "${req.renameTo}" exists already: choose another ${say('--rename-existing-to', 'renameExistingTo')}`,
          );
        break;
      default:
        return assertNever(existing, 'existing');
    }
    if (target.connections > 0) {
      if (!req.terminate)
        return refuse(
          `database "${db}" is in use by ${target.connections} session(s): it is not ${existing === 'drop' ? 'dropped' : 'renamed'} unless ${say('--terminate-connections', 'terminateConnections: true')}`,
        );
      steps.push({ kind: 'terminate-connections', database: db, sessions: target.connections });
    }
    steps.push(
      existing === 'drop'
        ? { kind: 'drop-database', database: db }
        : { kind: 'rename-database', from: db, to: req.renameTo as string },
    );
  }
  steps.push({ kind: 'create-database', database: db, config: req.config && dump.hasConfig });
  steps.push({ kind: 'restore-data', tool: toolFor(dump.format), into: 'new' });
  return { ok: true, steps };
}

function toolFor(format: DumpFormat): 'pg_restore' | 'psql' {
  return format === 'plain' ? 'psql' : 'pg_restore';
}

/** The restore tool's arguments (an array for spawn, never a shell); `connection` names the target database. */
export function restoreArgs(
  tool: 'pg_restore' | 'psql',
  format: DumpFormat,
  connection: string,
  file: string | null,
  jobs: number,
  extraArgs: readonly string[] = [],
): string[] {
  // file null: the dump comes on stdin (decrypted as it streams), which both tools read when given no file.
  const input = file === null ? [] : [file];
  if (tool === 'psql')
    return [
      '--dbname',
      connection,
      '--no-password',
      '--no-psqlrc',
      '--set',
      'ON_ERROR_STOP=1',
      '--quiet',
      ...(file === null ? [] : ['--file', file]),
    ];
  // -j reads the archive in parallel: custom and directory archives only, from a file it can seek in.
  const parallel =
    jobs > 1 && file !== null && (format === 'custom' || format === 'directory') ? [`--jobs=${jobs}`] : [];
  return [
    '--dbname',
    connection,
    '--no-password',
    '--verbose',
    '--exit-on-error',
    ...parallel,
    ...extraArgs,
    ...input,
  ];
}
