import { join } from 'node:path';
import type pg from 'pg';
import { childEnv, conninfo } from '../backup/dump/conninfo.ts';
import { openNodeClient } from '../backup/dump/node-connection.ts';
import { choosePgBinDir, discoverPgBinDirs } from '../backup/dump/pg-bin-dirs.ts';
import { rootDirectoryOf } from '../backup/files/layout.ts';
import { verifyRun } from '../backup/verify/verify-run.ts';
import type { BackupRun } from '../catalogue/backup-runs.ts';
import type { Queryable } from '../catalogue/catalogue-db.ts';
import { endClient } from '../catalogue/pg-client-catalogue.ts';
import { openDumpFile, readDumpText, requireIdentity } from '../encryption/read-encrypted.ts';
import { assertNever, PgbackmanError } from '../errors.ts';
import type { SpecOf } from '../manifest/kinds.ts';
import { requireSafeTool } from '../system/path-safety.ts';
import { readDatabaseConfig } from './config-file.ts';
import { describeStep, type StepLine } from './describe-step.ts';
import { dumpFactsOf } from './dump-files.ts';
import { runRecorded, type TakenStep } from './recorded-restore.ts';
import { decideRestore, type RestoreRequest, type RestoreStep, restoreArgs } from './restore-steps.ts';
import { createMissingRoles, readRolesFile } from './roles-file.ts';
import { runRestoreTool } from './run-restore-tool.ts';
import { quoteIdent } from './sql-text.ts';
import { readTargetFacts } from './target-facts.ts';

export interface RestoreJob {
  readonly backup: BackupRun;
  readonly server: { readonly name: string; readonly spec: SpecOf<'BackupServer'> };
  readonly source: { readonly name: string; readonly spec: SpecOf<'PgSQLNode'> } | undefined;
  readonly target: { readonly name: string; readonly spec: SpecOf<'PgSQLNode'> };
  readonly request: RestoreRequest;
  /** The RestoreDefinition (name and generation) the agent restores for; none from the command line. */
  readonly restoreDefinition?: { readonly name: string; readonly generation: number };
}

export interface RestoreHooks {
  readonly secretsDir?: string;
  /** age identities (--identity, PGBACKMAN_AGE_IDENTITY) for an encrypted dump. */
  readonly identities?: readonly string[];
  /**
   * Shown the steps before any is taken, with what they would destroy or move aside (`drop database "x"`,
   * `rename database "x" to "y"`; empty when nothing); resolves false to stop (a user who did not confirm).
   */
  readonly confirm?: (steps: readonly StepLine[], destructive: readonly string[]) => Promise<boolean>;
  /** Progress lines (items of the archive restored), for a terminal. */
  readonly progress?: ((line: string) => void) | undefined;
  readonly dryRun?: boolean;
  readonly signal?: AbortSignal;
}

export interface RestoreResult {
  readonly id: string | null;
  readonly status: 'PLANNED' | 'SUCCEEDED' | 'FAILED' | 'DECLINED';
  readonly steps: readonly StepLine[];
  readonly renamedTo: string | null;
  readonly error: string | null;
  readonly logPath: string | null;
}

/** The target node's maintenance database, and the environment its tools get (the password in PGPASSWORD). */
export async function openTarget(
  job: Pick<RestoreJob, 'target'>,
  hooks: Pick<RestoreHooks, 'secretsDir' | 'signal'>,
): Promise<{ readonly env: NodeJS.ProcessEnv; readonly client: pg.Client; readonly maintenance: string }> {
  const env = childEnv(job.target.spec, process.env, hooks.secretsDir);
  const maintenance = job.target.spec.maintenanceDatabase ?? 'postgres';
  const client = await openNodeClient(
    job.target.spec,
    maintenance,
    env,
    'pgbackman restore',
    ` (node ${job.target.name}); nothing was restored`,
  );
  // A restore stopped (its timeout, the agent's shutdown) drops its connection: a statement waiting on a node
  // that stopped answering then fails instead of holding the restore.
  const drop = () => void endClient(client).catch(() => undefined);
  if (hooks.signal?.aborted) drop();
  hooks.signal?.addEventListener('abort', drop, { once: true });
  client.once('end', () => hooks.signal?.removeEventListener('abort', drop));
  return { env, client, maintenance };
}

/**
 * check the dump → roles → the target database (fail, rename or drop) → create it from the dump's
 * configuration → pg_restore or psql → record. Every refusal comes before the first change to the target.
 */
export async function restoreDump(
  job: RestoreJob,
  catalogue: Queryable,
  hooks: RestoreHooks = {},
): Promise<RestoreResult> {
  const { backup, request: req } = job;
  const dump = dumpFactsOf(backup);
  const identities = hooks.identities ?? [];
  // A missing or wrong key is found before the target is even asked.
  await requireIdentity(backup, identities);
  // The re-hash reads the whole dump: it runs while the target is asked (read only), and is awaited before
  // anything on the target changes. A dry run does not need it.
  const stopChecking = new AbortController();
  const checking = hooks.dryRun ? undefined : verifyRun(backup, { signal: stopChecking.signal });
  checking?.catch(() => undefined);
  const { env, client } = await openTarget(job, hooks).catch((err: unknown) => {
    stopChecking.abort();
    throw err;
  });
  // A sealed small file that does not open is most often a changed one: the re-hash says so, in its words.
  const smallFile = async (path: string | null) => {
    try {
      return await readDumpText(path, identities);
    } catch (err) {
      const checked = await (checking ?? verifyRun(backup)).catch(() => undefined);
      if (checked !== undefined && checked.status !== 'OK')
        throw new PgbackmanError(
          'RESTORE_REFUSED',
          `the dump failed its check (${checked.status}): ${checked.error}; nothing on the target was touched`,
        );
      throw err;
    }
  };
  try {
    const roles = readRolesFile(await smallFile(backup.rolesPath));
    const facts = await readTargetFacts(
      client,
      req.database,
      req.renameTo,
      roles.roles,
      await isSource(job, client),
    );
    const decision = decideRestore(dump, req, facts);
    if (!decision.ok) throw new PgbackmanError('RESTORE_REFUSED', decision.reason);
    const version = await client.query<{ server_version_num: string }>('show server_version_num');
    const major = Number(version.rows[0]?.server_version_num ?? 0) / 10_000;
    const bin = choosePgBinDir(
      discoverPgBinDirs((job.server.spec.pgBinDirectories ?? {}) as Record<string, string>),
      Math.floor(major),
    );
    const libpq = { libpqMajor: bin.major };
    const tool = (name: 'pg_restore' | 'psql') => join(bin.dir, name);
    const command = (step: Extract<RestoreStep, { kind: 'restore-data' }>) =>
      restoreArgs(
        step.tool,
        dump.format,
        conninfo(job.target.spec, req.database, libpq),
        dump.encrypted ? null : dump.path,
        req.jobs,
        req.extraArgs,
      );
    const config = readDatabaseConfig(
      req.config ? await smallFile(backup.configPath) : '',
      backup.database ?? req.database,
      req.database,
    );
    const lines = decision.steps.map((s) =>
      describeStep(s, {
        config,
        roles,
        tool,
        command,
        present: new Set(facts.rolesPresent),
        jobsIgnored:
          req.jobs > 1 && (dump.encrypted || (dump.format !== 'custom' && dump.format !== 'directory')),
        decrypting: dump.encrypted ? dump.path : undefined,
      }),
    );
    const destructive = decision.steps.flatMap(destructiveText);
    if (hooks.dryRun)
      return { id: null, status: 'PLANNED', steps: lines, renamedTo: null, error: null, logPath: null };
    if (hooks.confirm !== undefined && !(await hooks.confirm(lines, destructive)))
      return { id: null, status: 'DECLINED', steps: lines, renamedTo: null, error: null, logPath: null };
    for (const name of ['pg_restore', 'psql'] as const) requireSafeTool(tool(name));
    // The dump is checked before anything else: one that does not match its checksums never reaches the target.
    const checked = await (checking ?? verifyRun(backup));
    if (checked.status !== 'OK')
      throw new PgbackmanError(
        'RESTORE_REFUSED',
        `the dump failed its check (${checked.status}): ${checked.error}; nothing on the target was touched`,
      );

    const present = new Set(facts.rolesPresent);
    const steps = decision.steps.map(
      (step, i): TakenStep => ({
        summary: lines[i]?.summary ?? step.kind,
        take: (logPath) =>
          takeStep(step, {
            client,
            roles,
            config,
            present,
            run: (s) =>
              runRestoreTool(
                tool(s.tool),
                command(s),
                env,
                logPath,
                hooks.signal,
                hooks.progress,
                dump.encrypted ? () => openDumpFile(dump.path, identities) : undefined,
              ),
          }),
        ...(step.kind === 'rename-database' ? { renamedTo: { from: step.from, to: step.to } } : {}),
        // CREATE DATABASE comes first in its step: the step failing later leaves the database there.
        ...(step.kind === 'create-database' ? { fills: step.database } : {}),
      }),
    );
    const { id, logPath, renamed } = await runRecorded(
      catalogue,
      {
        backupId: backup.id,
        restoreDefinition: job.restoreDefinition?.name ?? null,
        restoreGeneration: job.restoreDefinition?.generation ?? null,
        server: job.server.name,
        sourceNode: backup.node,
        sourceDatabase: backup.database,
        targetNode: job.target.name,
        targetDatabase: req.database,
        options: { ...req },
      },
      rootDirectoryOf(job.server.spec),
      steps,
      hooks.signal,
    );
    const renamedTo = renamed[0] ?? null;
    return { id, status: 'SUCCEEDED', steps: lines, renamedTo, error: null, logPath };
  } finally {
    // Refused or declined before the check was needed: a large dump is not read to the end for nothing.
    stopChecking.abort();
    await endClient(client).catch(() => undefined);
  }
}

/** What a step destroys or moves aside, in the words a confirmation question uses; nothing for the others. */
export function destructiveText(step: RestoreStep): string[] {
  if (step.kind === 'drop-database') return [`drop database "${step.database}"`];
  if (step.kind === 'rename-database') return [`rename database "${step.from}" to "${step.to}"`];
  return [];
}

interface StepContext {
  readonly client: pg.Client;
  readonly roles: ReturnType<typeof readRolesFile>;
  readonly config: ReturnType<typeof readDatabaseConfig>;
  readonly present: ReadonlySet<string>;
  readonly run: (step: Extract<RestoreStep, { kind: 'restore-data' }>) => Promise<void>;
}

async function takeStep(step: RestoreStep, c: StepContext): Promise<void> {
  switch (step.kind) {
    case 'check-dump':
      return; // done before the restore was recorded (restoreDump): a bad dump is refused, not failed
    case 'create-roles': {
      // All or none: a role half created is worse than one missing.
      await c.client.query('begin');
      try {
        for (const sql of createMissingRoles(c.roles, c.present)) await c.client.query(sql);
        await c.client.query('commit');
      } catch (err) {
        await c.client.query('rollback').catch(() => undefined);
        throw err;
      }
      return;
    }
    case 'keep-roles':
      return;
    case 'terminate-connections':
      await c.client.query(
        'select pg_catalog.pg_terminate_backend(pid) from pg_catalog.pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
        [step.database],
      );
      return;
    case 'rename-database':
      await withRetryOnSessions(
        c.client,
        step.from,
        `ALTER DATABASE ${quoteIdent(step.from)} RENAME TO ${quoteIdent(step.to)}`,
      );
      return;
    case 'drop-database':
      await withRetryOnSessions(c.client, step.database, `DROP DATABASE ${quoteIdent(step.database)}`);
      return;
    case 'create-database': {
      const statements = step.config
        ? c.config.statements
        : [`CREATE DATABASE ${quoteIdent(step.database)} TEMPLATE template0`];
      for (const sql of statements) await c.client.query(sql);
      return;
    }
    case 'restore-data':
      await c.run(step);
      return;
    default:
      assertNever(step, 'restore step');
  }
}

/** A session that was terminated may take a moment to go; a new one may arrive meanwhile: asked again briefly. */
async function withRetryOnSessions(client: pg.Client, database: string, sql: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await client.query(sql);
      return;
    } catch (err) {
      // 55006: object_in_use ("being accessed by other users")
      if ((err as { code?: string }).code !== '55006' || attempt >= 20) throw err;
      await new Promise((r) => setTimeout(r, 100));
      void database;
    }
  }
}

/**
 * Is the target database the dump's own source? The same database name in the same cluster: the cluster
 * told by its pg_control system identifier when the dump recorded one (whatever name or address the
 * target is given), else by the node's name, host and port.
 */
async function isSource(job: RestoreJob, client: pg.Client): Promise<boolean> {
  if (job.backup.database !== job.request.database) return false;
  return sameCluster(job, client);
}

/** Whether the target node is the cluster the dump was taken from. */
export async function sameCluster(
  job: Pick<RestoreJob, 'backup' | 'source' | 'target'>,
  client: pg.Client,
): Promise<boolean> {
  if (job.backup.sourceSystemIdentifier !== null) {
    const { rows } = await client.query<{ id: string }>(
      'select system_identifier::text as id from pg_catalog.pg_control_system()',
    );
    return rows[0]?.id === job.backup.sourceSystemIdentifier;
  }
  if (job.target.name === job.backup.node) return true;
  const s = job.source?.spec;
  const t = job.target.spec;
  return s !== undefined && s.host === t.host && (s.port ?? 5432) === (t.port ?? 5432);
}
