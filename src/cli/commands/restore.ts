import { rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { DEFAULT_SECRETS_DIR } from '../../backup/dump/read-password-file.ts';
import type { BackupRun } from '../../catalogue/backup-runs.ts';
import type { Queryable } from '../../catalogue/catalogue-db.ts';
import { listObjects } from '../../catalogue/list-objects.ts';
import { requireCurrentSchema } from '../../catalogue/migrate.ts';
import { withCatalogue } from '../../catalogue/open-catalogue.ts';
import { requireIdentity } from '../../encryption/read-encrypted.ts';
import { PgbackmanError } from '../../errors.ts';
import type { SpecOf } from '../../manifest/kinds.ts';
import type { StepLine } from '../../restore/describe-step.ts';
import { readDumpFolder } from '../../restore/dump-folder.ts';
import { restoreCluster } from '../../restore/restore-cluster.ts';
import { restoreDump } from '../../restore/restore-dump.ts';
import { defaultRenameTo, type ExistingPolicy, type RolesPolicy } from '../../restore/restore-steps.ts';
import { parseConninfo } from '../../restore/target-conninfo.ts';
import type { AllowedDestination } from '../../storage/allowed-destinations.ts';
import { withReadableDump } from '../../storage/fetch-copy.ts';
import { fetchFolder, isBucketUrl } from '../../storage/fetch-folder.ts';
import { furtherOf } from '../../storage/run-destinations.ts';
import { stopAfter } from '../../system/deadline.ts';
import { askApproval } from '../ask-approval.ts';
import { ExitCode } from '../exit-codes.ts';
import type { Output } from '../output.ts';
import { resolveBackup } from '../resolve-backup.ts';
import { restoreParties } from '../restore-parties.ts';

export interface RestoreFlags {
  /** age identities for an encrypted dump (--identity, PGBACKMAN_AGE_IDENTITY). */
  readonly identities?: readonly string[];
  readonly node?: string;
  readonly database?: string;
  readonly existing: ExistingPolicy;
  readonly renameExistingTo?: string;
  readonly roles: RolesPolicy;
  readonly config: boolean;
  readonly jobs: number;
  readonly terminateConnections: boolean;
  readonly dryRun: boolean;
  readonly yes: boolean;
  readonly secretsDir?: string | undefined;
  /** Where copies may be fetched from when the dump's folder is gone from the root (--allow-destination). */
  readonly allowedDestinations?: readonly AllowedDestination[];
  readonly from?: string;
  readonly target?: string;
  /** Milliseconds the restore may take (--timeout); no limit without it. */
  readonly timeout?: number;
}

/** Where a `--from` restore without the catalogue keeps its log, and that it is recorded nowhere. */
const NOT_RECORDED: Queryable = { query: async () => [], exec: async () => undefined };

/**
 * `pgbackman restore ID --node N`, or `restore --from PATH (--node N | --target CONNINFO)`: the steps on
 * stderr (stdout with --dry-run), the outcome on stdout.
 */
export async function runRestore(
  id: string | undefined,
  location: string,
  flags: RestoreFlags,
  output: Output,
): Promise<ExitCode> {
  if (flags.renameExistingTo !== undefined && flags.existing !== 'rename')
    throw new PgbackmanError('USAGE', '--rename-existing-to goes with --existing rename');
  for (const [flag, name] of [
    ['--database', flags.database],
    ['--rename-existing-to', flags.renameExistingTo],
  ] as const)
    if (name !== undefined) checkDatabaseName(flag, name);
  if ((id === undefined) === (flags.from === undefined))
    throw new PgbackmanError('USAGE', 'restore takes a BACKUP_ID, or --from PATH (a dump folder)');
  if ((flags.node === undefined) === (flags.target === undefined))
    throw new PgbackmanError(
      'USAGE',
      'restore needs --node NODE (a PgSQLNode of the catalogue) or, with --from, --target CONNINFO',
    );
  if (flags.target !== undefined && flags.from === undefined)
    throw new PgbackmanError('USAGE', '--target goes with --from; a catalogued backup restores onto --node');
  if (flags.from !== undefined && isBucketUrl(flags.from)) {
    // A folder in a bucket: fetched whole (still sealed, when encrypted) into the state directory, restored
    // from there like any --from folder, and removed.
    const url = flags.from;
    const under = join(resolve(process.env.PGBACKMAN_STATE_DIR || '.pgbackman'), 'fetch');
    const destinations =
      flags.target !== undefined
        ? []
        : await withCatalogue(location, 'restore', async (db) =>
            (await listObjects(db, 'BackupServer')).flatMap((s) => furtherOf(s.spec.storage ?? [])),
          );
    const folder = await fetchFolder(url, under, { ...copyContext(flags), destinations });
    output.err.write(`Fetched ${url} into ${folder}\n`);
    try {
      return await runRestore(id, location, { ...flags, from: folder }, output);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  }
  if (flags.from !== undefined && flags.target !== undefined) {
    // No catalogue at all: the folder's backup.json says what the dump is, --target where it goes.
    const target = parseConninfo(flags.target);
    const backup = await readDumpFolder(flags.from);
    if (target.password !== undefined) process.env.PGPASSWORD = target.password;
    const stateDir = resolve(process.env.PGBACKMAN_STATE_DIR || '.pgbackman');
    const server = { name: backup.server, spec: { hostname: hostname(), rootDirectory: stateDir } };
    const node = { name: `${target.spec.host}:${target.spec.port ?? 5432}`, spec: target.spec };
    return execute(backup, node, server, undefined, NOT_RECORDED, flags, output);
  }
  return withCatalogue(location, 'restore', async (db) => {
    await requireCurrentSchema(db);
    const backup =
      flags.from !== undefined
        ? await readDumpFolder(flags.from)
        : await resolveBackup(db, id as string, { includeDeleted: false });
    const { target, server, source } = await restoreParties(db, backup, flags.node as string);
    // The primary first; when its folder is gone, a copy from a further destination (the dry run says so only).
    if (flags.from !== undefined || flags.dryRun)
      return execute(backup, target, server, source, db, flags, output);
    // An encrypted dump and no key: refused before a copy of it (perhaps gigabytes) is fetched for nothing.
    if ((flags.identities ?? []).length === 0) await requireIdentity(backup, []);
    return withReadableDump(db, backup, server.spec, copyContext(flags), (run, fetchedFrom) => {
      if (fetchedFrom !== undefined)
        output.err.write(
          `${backup.rootCopy === 'KEPT' ? "The dump's folder is gone from the root directory" : 'The dump was only staged in the root directory'}: restoring from its copy at ${fetchedFrom}\n`,
        );
      return execute(run, target, server, source, db, flags, output);
    });
  });
}

async function execute(
  backup: BackupRun,
  target: { readonly name: string; readonly spec: SpecOf<'PgSQLNode'> },
  server: { readonly name: string; readonly spec: SpecOf<'BackupServer'> },
  source: { readonly name: string; readonly spec: SpecOf<'PgSQLNode'> } | undefined,
  db: Queryable,
  flags: RestoreFlags,
  output: Output,
): Promise<ExitCode> {
  const cluster = backup.code === 'CLUSTER';
  if (cluster && (flags.database !== undefined || flags.renameExistingTo !== undefined))
    throw new PgbackmanError(
      'USAGE',
      'a CLUSTER dump restores every database under its own name: --database and --rename-existing-to do not apply',
    );
  const database = cluster ? '*' : (flags.database ?? backup.database ?? '');
  const renameTo =
    flags.existing === 'rename'
      ? (flags.renameExistingTo ?? defaultRenameTo(database, new Date()))
      : undefined;
  const secretsDir = flags.secretsDir ?? (process.env.PGBACKMAN_SECRETS_DIR || DEFAULT_SECRETS_DIR);
  const header = `Restore of backup ${backup.id.slice(0, 8)} (${describeBackup(backup)}) onto node ${target.name}${cluster ? ', every database' : `, database "${database}"`}:\n`;
  const plan = flags.dryRun ? output.out : output.err;
  const limit =
    flags.timeout === undefined
      ? undefined
      : stopAfter(flags.timeout, `--timeout (${flags.timeout / 1000} s)`);
  const result = await (cluster ? restoreCluster : restoreDump)(
    {
      backup,
      server,
      source,
      target,
      request: {
        database,
        existing: flags.existing,
        renameTo,
        roles: flags.roles,
        config: flags.config,
        jobs: flags.jobs,
        terminate: flags.terminateConnections,
        extraArgs: [],
      },
    },
    db,
    {
      secretsDir,
      identities: flags.identities ?? [],
      ...(limit === undefined ? {} : { signal: limit.signal }),
      dryRun: flags.dryRun,
      progress: process.stderr.isTTY ? (line) => output.err.write(`  ${line}\n`) : undefined,
      confirm: async (steps, destructive) => {
        plan.write(header + stepsText(steps));
        // Off a terminal nothing can be asked: --existing rename or drop on the command line is the consent.
        if (destructive.length === 0 || flags.yes || !process.stdin.isTTY) return true;
        return askApproval(
          output,
          'restore',
          `${destructive.join(', ')} on node ${target.name}, then restore the dump`,
        );
      },
    },
  ).finally(() => limit?.clear());
  switch (result.status) {
    case 'PLANNED':
      output.out.write(`${header}${stepsText(result.steps)}\nDry run: nothing was changed.\n`);
      return ExitCode.Ok;
    case 'DECLINED':
      throw new PgbackmanError(
        'ABORTED',
        'restore cancelled (only "yes" approves; --yes does not ask): nothing was changed',
      );
    case 'SUCCEEDED':
      output.out.write(
        cluster
          ? `Restore ${result.id?.slice(0, 8)} SUCCEEDED: the cluster dump on node ${target.name}${result.renamedTo === null ? '' : `; renamed: ${result.renamedTo}`} (log: ${result.logPath})\n`
          : `Restore ${result.id?.slice(0, 8)} SUCCEEDED: database "${database}" on node ${target.name}${result.renamedTo === null ? '' : `; the previous one is now "${result.renamedTo}"`} (log: ${result.logPath})\n`,
      );
      return ExitCode.Ok;
    case 'FAILED':
      return ExitCode.Failure;
  }
}

function describeBackup(b: BackupRun): string {
  const what =
    b.definition !== null ? `BackupDefinition/${b.definition}` : `SnapshotDefinition/${b.snapshot}`;
  const database = b.database === null ? 'every database' : `database "${b.database}"`;
  return `${what}, node ${b.node}, ${database}, ${b.code}, taken ${b.startedAt}`;
}

function stepsText(steps: readonly StepLine[]): string {
  return steps
    .map((s, i) => `  ${i + 1}. ${s.summary}\n${s.commands.map((c) => `       ${c}\n`).join('')}`)
    .join('');
}

function checkDatabaseName(flag: string, name: string): void {
  if (name === '' || Buffer.byteLength(name) > 63 || name.includes('\0'))
    throw new PgbackmanError('USAGE', `${flag}: "${name}" is not a database name (1 to 63 bytes, no NUL)`);
}

/** Where copies may be fetched from, and their keys read: the operator's flags. */
export function copyContext(flags: {
  readonly allowedDestinations?: readonly AllowedDestination[];
  readonly secretsDir?: string | undefined;
}) {
  return {
    allowed: flags.allowedDestinations ?? [],
    env: process.env,
    secretsDir: flags.secretsDir ?? (process.env.PGBACKMAN_SECRETS_DIR || DEFAULT_SECRETS_DIR),
  };
}
