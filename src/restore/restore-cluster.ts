import type pg from 'pg';
import { conninfo } from '../backup/dump/conninfo.ts';
import { choosePgBinDir, discoverPgBinDirs } from '../backup/dump/pg-bin-dirs.ts';
import { rootDirectoryOf } from '../backup/files/layout.ts';
import { verifyRun } from '../backup/verify/verify-run.ts';
import type { Queryable } from '../catalogue/catalogue-db.ts';
import { endClient } from '../catalogue/pg-client-catalogue.ts';
import { requireIdentity } from '../encryption/read-encrypted.ts';
import { PgbackmanError } from '../errors.ts';
import { requireSafeTool } from '../system/path-safety.ts';
import { scanClusterScript, streamClusterSections } from './cluster-script.ts';
import type { StepLine } from './describe-step.ts';
import { dumpFactsOf } from './dump-files.ts';
import { failingAs, psqlSink } from './psql-sink.ts';
import { runRecorded, type TakenStep } from './recorded-restore.ts';
import {
  destructiveText,
  openTarget,
  type RestoreHooks,
  type RestoreJob,
  type RestoreResult,
  sameCluster,
} from './restore-dump.ts';
import { decideRestore, defaultRenameTo, type RestoreStep } from './restore-steps.ts';
import { createMissingRoles, readRolesFile } from './roles-file.ts';
import { IDENT, quoteIdent, splitStatements, unquoteIdent } from './sql-text.ts';
import { readTargetFacts } from './target-facts.ts';

/** pg_dumpall writes these as \connect and their contents; they always exist on the target and are left as they are. */
const KEPT = new Set(['template1', 'postgres']);
const TABLESPACE = new RegExp(`^CREATE TABLESPACE (${IDENT}) `);

/**
 * A CLUSTER dump onto a node: the roles it lacks, its missing tablespaces, then every database of the dump,
 * `existing` applied to each (all refusals first: with `fail`, one existing database refuses the whole
 * restore before anything is touched), each database's section streamed into its own psql.
 */
export async function restoreCluster(
  job: RestoreJob,
  catalogue: Queryable,
  hooks: RestoreHooks = {},
): Promise<RestoreResult> {
  const { backup, request: req } = job;
  const dump = dumpFactsOf(backup);
  const identities = hooks.identities ?? [];
  await requireIdentity(backup, identities);
  const { env, client, maintenance } = await openTarget(job, hooks);
  try {
    const script = await scanClusterScript(dump.path, identities);
    const roles = readRolesFile(script.globals);
    const spaces = splitStatements(script.globals).filter((s) => TABLESPACE.test(s));
    const haveRoles = new Set(
      (
        await client.query<{ r: string }>(
          'select rolname as r from pg_catalog.pg_roles where rolname = any($1::text[])',
          [roles.roles],
        )
      ).rows.map((x) => x.r),
    );
    const haveSpaces = new Set(
      (await client.query<{ s: string }>('select spcname as s from pg_catalog.pg_tablespace')).rows.map(
        (x) => x.s,
      ),
    );
    const missingSpaces = spaces.filter(
      (s) => !haveSpaces.has(unquoteIdent(TABLESPACE.exec(s)?.[1] as string)),
    );
    const now = new Date();
    const isSource = await sameCluster(job, client);
    // A template database on the target cannot be dropped: refused with the others, before anything is touched.
    const templates = new Set(
      (
        await client.query<{ d: string }>(
          'select datname as d from pg_catalog.pg_database where datistemplate',
        )
      ).rows.map((r) => r.d),
    );
    const plans: { database: string; steps: readonly RestoreStep[] }[] = [];
    const refusals: string[] = [];
    for (const database of script.databases.filter((d) => !KEPT.has(d))) {
      const renameTo = req.existing === 'rename' ? defaultRenameTo(database, now) : undefined;
      const facts = await readTargetFacts(client, database, renameTo, [], isSource);
      const decision = decideRestore(
        { code: 'FULL', format: 'plain', hasRoles: false, hasConfig: false },
        {
          ...req,
          database,
          renameTo,
          roles: 'skip',
          config: false,
          jobs: 1,
          extraArgs: [],
          via: req.via === 'manifest' ? 'manifest-cluster' : 'cluster',
        },
        facts,
      );
      if (decision.ok && req.existing === 'drop' && facts.exists && templates.has(database))
        refusals.push(
          `database "${database}" is a template on the target (datistemplate): it is not dropped`,
        );
      else if (decision.ok)
        plans.push({
          database,
          steps: decision.steps.filter((s) => s.kind !== 'check-dump' && s.kind !== 'create-database'),
        });
      else refusals.push(decision.reason);
    }
    if (refusals.length > 0)
      throw new PgbackmanError(
        'RESTORE_REFUSED',
        `${refusals.length} of the dump's databases cannot be restored: ${refusals.join('; ')}`,
      );
    const creating = req.roles === 'create-missing' ? createMissingRoles(roles, haveRoles) : [];
    const lines: StepLine[] = [
      { summary: 're-hash the dump against its recorded checksums', commands: [] },
      ...(creating.length > 0
        ? [
            {
              summary: `create missing roles: ${roles.roles.filter((r) => !haveRoles.has(r)).join(', ')}`,
              commands: creating.map((c) => c.replace(/ PASSWORD '(?:[^']|'')*'/, " PASSWORD '…'")),
            },
          ]
        : []),
      ...(missingSpaces.length > 0
        ? [
            {
              summary: 'create missing tablespaces (their directories must exist on the node)',
              commands: missingSpaces,
            },
          ]
        : []),
      ...plans.map((p) => ({
        summary: `restore database "${p.database}"${p.steps.map((s) => (s.kind === 'rename-database' ? `, the existing one renamed to "${s.to}"` : s.kind === 'drop-database' ? ', the existing one dropped' : s.kind === 'terminate-connections' ? `, its ${s.sessions} session(s) terminated` : '')).join('')}`,
        commands: [
          `psql ... < its section of ${dump.path}${dump.encrypted ? ' (decrypted as it streams)' : ''}`,
        ],
      })),
      {
        summary: `left as they are on the target: ${[...KEPT].filter((d) => script.databases.includes(d)).join(', ')} (not restored)`,
        commands: [],
      },
    ];
    const destructive = plans.flatMap((p) => p.steps.flatMap(destructiveText));
    if (hooks.dryRun)
      return { id: null, status: 'PLANNED', steps: lines, renamedTo: null, error: null, logPath: null };
    if (hooks.confirm !== undefined && !(await hooks.confirm(lines, destructive)))
      return { id: null, status: 'DECLINED', steps: lines, renamedTo: null, error: null, logPath: null };
    const major = Math.floor(
      Number(
        (await client.query<{ v: string }>("select current_setting('server_version_num') as v")).rows[0]?.v,
      ) / 10_000,
    );
    const bin = choosePgBinDir(
      discoverPgBinDirs((job.server.spec.pgBinDirectories ?? {}) as Record<string, string>),
      major,
    );
    const psql = `${bin.dir}/psql`;
    requireSafeTool(psql);
    const checked = await verifyRun(backup);
    if (checked.status !== 'OK')
      throw new PgbackmanError(
        'RESTORE_REFUSED',
        `the dump failed its check (${checked.status}): ${checked.error}; nothing on the target was touched`,
      );

    const byName = new Map(plans.map((p) => [p.database, p]));
    const restored: string[] = [];
    const changed: string[] = [];
    const steps: TakenStep[] = [
      ...(creating.length > 0
        ? [{ summary: lines[1]?.summary ?? 'create roles', take: () => inTransaction(client, creating) }]
        : []),
      ...(missingSpaces.length > 0
        ? [
            {
              summary: 'create missing tablespaces',
              take: async () => {
                for (const sql of missingSpaces) await client.query(sql);
              },
            },
          ]
        : []),
      {
        summary: `restore ${plans.length} database(s)`,
        changed: () => changed,
        take: (logPath) =>
          streamClusterSections(
            dump.path,
            async (database) => {
              hooks.signal?.throwIfAborted();
              const plan = byName.get(database);
              if (plan === undefined) return undefined;
              for (const step of plan.steps) {
                await prepare(client, step);
                if (step.kind === 'rename-database') changed.push(`"${step.from}" renamed to "${step.to}"`);
                if (step.kind === 'drop-database') changed.push(`"${step.database}" dropped`);
              }
              changed.push(`"${database}" created (restored only if named below)`);
              const sink = psqlSink(
                psql,
                conninfo(job.target.spec, maintenance, { libpqMajor: bin.major }),
                env,
                logPath,
                hooks.signal,
                () => {
                  restored.push(database);
                  changed.push(`"${database}" restored`);
                  hooks.progress?.(`restored ${restored.length}/${plans.length} databases: "${database}"`);
                },
              );
              return failingAs(sink, database, restored);
            },
            identities,
          ),
      },
    ];
    const { id, logPath, renamed } = await runRecorded(
      catalogue,
      {
        backupId: backup.id,
        restoreDefinition: job.restoreDefinition?.name ?? null,
        restoreGeneration: job.restoreDefinition?.generation ?? null,
        server: job.server.name,
        sourceNode: backup.node,
        sourceDatabase: null,
        targetNode: job.target.name,
        targetDatabase: '*',
        options: { ...req, database: '*' },
      },
      rootDirectoryOf(job.server.spec),
      steps,
      hooks.signal,
    );
    void renamed;
    const renamedTo = plans
      .flatMap((p) => p.steps.flatMap((s) => (s.kind === 'rename-database' ? [`${s.from} → ${s.to}`] : [])))
      .join(', ');
    return { id, status: 'SUCCEEDED', steps: lines, renamedTo: renamedTo || null, error: null, logPath };
  } finally {
    await endClient(client).catch(() => undefined);
  }
}

async function inTransaction(client: pg.Client, statements: readonly string[]): Promise<void> {
  await client.query('begin');
  try {
    for (const sql of statements) await client.query(sql);
    await client.query('commit');
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  }
}

/** What comes before a database's section: its sessions ended, the existing one renamed or dropped. */
async function prepare(client: pg.Client, step: RestoreStep): Promise<void> {
  switch (step.kind) {
    case 'terminate-connections':
      await client.query(
        'select pg_catalog.pg_terminate_backend(pid) from pg_catalog.pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
        [step.database],
      );
      return;
    case 'rename-database':
      await client.query(`ALTER DATABASE ${quoteIdent(step.from)} RENAME TO ${quoteIdent(step.to)}`);
      return;
    case 'drop-database':
      await client.query(`DROP DATABASE ${quoteIdent(step.database)} WITH (FORCE)`);
      return;
    default:
      return;
  }
}
