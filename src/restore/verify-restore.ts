import { childEnv } from '../backup/dump/conninfo.ts';
import { openNodeClient } from '../backup/dump/node-connection.ts';
import { type BackupRun, recordRestoreVerification } from '../catalogue/backup-runs.ts';
import type { Queryable } from '../catalogue/catalogue-db.ts';
import { endClient } from '../catalogue/pg-client-catalogue.ts';
import { messageOf } from '../errors.ts';
import type { SpecOf } from '../manifest/kinds.ts';
import { restoreDump } from './restore-dump.ts';
import { quoteIdent } from './sql-text.ts';
import { checkTables, type TableCount } from './table-checks.ts';

/** A probe may take this long; it runs read-only on the scratch copy. */
const PROBE_TIMEOUT_MS = 60_000;

export interface RestoreTest {
  readonly backup: BackupRun;
  readonly server: { readonly name: string; readonly spec: SpecOf<'BackupServer'> };
  readonly source: { readonly name: string; readonly spec: SpecOf<'PgSQLNode'> } | undefined;
  /** Where the scratch database is made: a node meant for it (spec.verify.node). */
  readonly node: { readonly name: string; readonly spec: SpecOf<'PgSQLNode'> };
  /** SQL that must return true on the restored copy (one row, its first column). */
  readonly probe?: string | undefined;
}

export interface RestoreTestResult {
  readonly status: 'VERIFIED' | 'VERIFY_FAILED';
  readonly summary: string;
  readonly details: {
    readonly node: string;
    readonly database: string;
    readonly restore: string | null;
    readonly durationMs: number;
    readonly tables: readonly TableCount[];
    readonly missing: readonly string[];
    readonly offEstimate: readonly string[];
    readonly probe: { readonly sql: string; readonly result: unknown } | null;
    readonly error: string | null;
  };
}

/**
 * Proves a dump restores: into `pgbackman_verify_<id8>` on the node, then every table the dump held must be
 * there with about the rows it had, and the probe true. The scratch database is dropped whatever happened,
 * and the result recorded on the dump (VERIFIED or VERIFY_FAILED with the details).
 */
export async function verifyByRestore(
  t: RestoreTest,
  catalogue: Queryable,
  hooks: {
    readonly secretsDir?: string;
    readonly signal?: AbortSignal;
    readonly identities?: readonly string[];
  } = {},
): Promise<RestoreTestResult> {
  const started = Date.now();
  const scratch = `pgbackman_verify_${t.backup.id.slice(0, 8)}`;
  const env = childEnv(t.node.spec, process.env, hooks.secretsDir);
  let restoreId: string | null = null;
  let counts: TableCount[] = [];
  let missing: string[] = [];
  let offEstimate: string[] = [];
  let probe: { sql: string; result: unknown } | null = null;
  let error: string | null = null;
  try {
    const restored = await restoreDump(
      {
        backup: t.backup,
        server: t.server,
        source: t.source,
        target: t.node,
        request: {
          database: scratch,
          existing: 'drop',
          renameTo: undefined,
          roles: 'create-missing',
          config: false,
          jobs: 1,
          terminate: true,
          extraArgs: [],
        },
      },
      catalogue,
      hooks,
    );
    restoreId = restored.id;
    const client = await openNodeClient(t.node.spec, scratch, env, 'pgbackman verify');
    try {
      const found = await countTables(client);
      const findings = checkTables(t.backup.tableEstimates ?? {}, found);
      counts = [...findings.counts];
      missing = [...findings.missing];
      offEstimate = findings.offEstimate.map(
        (c) => `${c.table}: ${c.restored} rows, ${c.estimate} when dumped`,
      );
      if (t.probe !== undefined) probe = { sql: t.probe, result: await runProbe(client, t.probe) };
    } finally {
      await endClient(client).catch(() => undefined);
    }
  } catch (err) {
    error = messageOf(err);
  } finally {
    await dropScratch(t.node.spec, env, scratch);
  }
  const problems = [
    ...(error === null ? [] : [error]),
    ...(missing.length === 0 ? [] : [`missing tables: ${missing.join(', ')}`]),
    ...(offEstimate.length === 0 ? [] : [`rows far from the dump's estimate: ${offEstimate.join('; ')}`]),
    ...(probe === null || probe.result === true
      ? []
      : [`the probe returned ${JSON.stringify(probe.result)}, not true`]),
  ];
  const status = problems.length === 0 ? 'VERIFIED' : 'VERIFY_FAILED';
  const details = {
    node: t.node.name,
    database: scratch,
    restore: restoreId,
    durationMs: Date.now() - started,
    tables: counts,
    missing,
    offEstimate,
    probe,
    error,
  };
  await recordRestoreVerification(catalogue, { id: t.backup.id, status, details });
  const summary =
    status === 'VERIFIED'
      ? `restored onto ${t.node.name} in ${(details.durationMs / 1000).toFixed(1)} s: ${t.backup.tableEstimates === null ? 'tables not checked (no row estimates were recorded with this dump)' : `${counts.length} table(s) present with the rows they had`}${probe === null ? '' : ', probe true'}`
      : problems.join('; ');
  return { status, summary, details };
}

/** Exact rows of every user table of the copy, names as format('%I.%I') makes them (so they are never SQL from us). */
async function countTables(client: import('pg').Client): Promise<Map<string, number>> {
  const { rows } = await client.query<{ name: string }>(
    `select format('%I.%I', n.nspname, c.relname) as name from pg_catalog.pg_class c
       join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where c.relkind in ('r', 'p') and n.nspname <> 'information_schema' and n.nspname !~ '^pg_'`,
  );
  const counts = new Map<string, number>();
  for (const { name } of rows) {
    const [r] = (await client.query<{ n: string }>(`select count(*)::text as n from ${name}`)).rows;
    counts.set(name, Number(r?.n ?? 0));
  }
  return counts;
}

/**
 * The probe is a query, run as the one query of a subquery (so COPY, DO or a second statement is a syntax
 * error), at most 2 rows read, in a read-only transaction, with a timeout. It still runs as the node's user:
 * see docs/cli.md on what that means when the user is a superuser.
 */
async function runProbe(client: import('pg').Client, sql: string): Promise<unknown> {
  const query = sql.trim().replace(/;\s*$/, '');
  await client.query('begin read only');
  try {
    await client.query(`set local statement_timeout = ${PROBE_TIMEOUT_MS}`);
    const result = await client.query({
      name: 'pgbackman_probe',
      text: `select * from (${query}\n) as pgbackman_probe limit 2`,
      rowMode: 'array',
    });
    const first = (result.rows[0] as unknown[] | undefined)?.[0];
    return result.rows.length === 1 ? first : `${result.rows.length} rows`;
  } catch (err) {
    return `error: ${messageOf(err)}`;
  } finally {
    await client.query('rollback').catch(() => undefined);
  }
}

async function dropScratch(
  node: SpecOf<'PgSQLNode'>,
  env: NodeJS.ProcessEnv,
  scratch: string,
): Promise<void> {
  const client = await openNodeClient(
    node,
    node.maintenanceDatabase ?? 'postgres',
    env,
    'pgbackman verify',
  ).catch(() => undefined);
  if (client === undefined) return;
  try {
    await client.query(`drop database if exists ${quoteIdent(scratch)} with (force)`);
  } finally {
    await endClient(client).catch(() => undefined);
  }
}
