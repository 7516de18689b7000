// The dump benchmarks' databases, built once per benchmark in a throwaway cluster: pgbench (a dump that
// compresses to almost nothing) and `noise` (random text and bytea, which does not); and their manifests.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type BenchContext, display } from './harness.ts';
import { BenchServer } from './server-helpers.ts';

/** pgbench's scale: 70 is about 1 GB (7,000,000 rows in pgbench_accounts). */
export const PGBENCH_SCALE = 70;
/** Rows of `noise`: each has 128 random hex characters and 64 random bytes, about 230 bytes on disk. */
export const NOISE_ROWS = 1_500_000;
/** `--small`: about a seventh of each, for a machine too busy to build the full ones in time. */
const SMALL = { scale: 10, noiseRows: 200_000 } as const;

/** The scale and noise rows a run builds: the full ones, or SMALL under `--small`. */
export function scaleOf(ctx: BenchContext): { scale: number; noiseRows: number } {
  return ctx.small ? SMALL : { scale: PGBENCH_SCALE, noiseRows: NOISE_ROWS };
}

export const NODE = 'bench-node';
export const SERVER = 'bench-server';
export const DB = { bench: 'bench', noise: 'noise', catalogue: 'catalogue' } as const;
export type Database = typeof DB.bench | typeof DB.noise;

const run = promisify(execFile);

/** Runs `program ARGV` untimed (setting up); returns its stdout, throws with its output's tail on failure. */
export async function exec(program: string, argv: readonly string[], cwd: string): Promise<string> {
  const { NODE_OPTIONS: _ignored, ...env } = process.env;
  try {
    const { stdout } = await run(program, argv, {
      cwd,
      env: { ...env, NO_COLOR: '1' },
      maxBuffer: 256 * 1024 * 1024,
    });
    return stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message?: string };
    const tail = `${e.stdout ?? ''}${e.stderr ?? ''}`.trim().split('\n').slice(-10).join('\n');
    throw new Error(`${display([program, ...argv])} failed: ${e.message ?? String(err)}\n${tail}`, {
      cause: err,
    });
  }
}

/** The throwaway cluster (node and catalogue in one), an admin connection to it, and its databases. */
export class DumpCluster extends BenchServer {
  static async start(label: string): Promise<DumpCluster> {
    return new DumpCluster(await BenchServer.open(label));
  }

  tool(name: string): string {
    return join(this.cluster.binDir, name);
  }

  async size(database: string): Promise<number> {
    const { rows } = await this.admin.query<{ n: string }>('select pg_database_size($1)::text as n', [
      database,
    ]);
    return Number(rows[0]?.n ?? Number.NaN);
  }
}

/** Builds `bench` (pgbench -i -s SCALE) and `noise` (ROWS rows), vacuumed; returns their sizes in bytes. */
export async function buildDatabases(
  c: DumpCluster,
  cwd: string,
  log: (line: string) => void,
  scale: number,
  noiseRows: number,
): Promise<{ bench: number; noise: number }> {
  const port = c.cluster.port;
  log(`PostgreSQL ${c.version} on port ${port}; building ${DB.bench} (pgbench -i -s ${scale})`);
  await c.sql(`create database ${DB.bench}`);
  const pgbench = ['-i', '-q', '-s', String(scale), '-h', '127.0.0.1', '-p', String(port), '-U', 'postgres'];
  await exec(c.tool('pgbench'), [...pgbench, DB.bench], cwd);
  log(`building ${DB.noise} (${noiseRows.toLocaleString('en-US')} rows of random text and bytea)`);
  await c.sql(`create database ${DB.noise}`);
  const md5s = (n: number) => Array.from({ length: n }, () => 'md5(random()::text)').join(' || ');
  await c.sqlIn(DB.noise, 'create table noise (id bigint primary key, t text not null, b bytea not null)');
  await c.sqlIn(
    DB.noise,
    `insert into noise select g, ${md5s(4)}, decode(${md5s(4)}, 'hex') from generate_series(1, ${noiseRows}) g`,
  );
  await c.sqlIn(DB.noise, 'vacuum analyze noise');
  await c.sqlIn(DB.bench, 'vacuum analyze');
  return { bench: await c.size(DB.bench), noise: await c.size(DB.noise) };
}

/** The BackupServer (its root `root`) and the cluster as a PgSQLNode, as YAML documents. */
export function serverAndNode(root: string, port: number): string[] {
  return [
    [
      'apiVersion: pgbackman.io/v1',
      'kind: BackupServer',
      'metadata:',
      `  name: ${SERVER}`,
      'spec:',
      '  hostname: localhost',
      `  rootDirectory: ${root}`,
      '  diskReserve: 1GiB',
    ].join('\n'),
    [
      'apiVersion: pgbackman.io/v1',
      'kind: PgSQLNode',
      'metadata:',
      `  name: ${NODE}`,
      'spec:',
      '  host: 127.0.0.1',
      `  port: ${port}`,
      '  user: postgres',
    ].join('\n'),
  ];
}

/** A FULL BackupDefinition `DATABASE-FORMAT` of the node, with `extra` spec lines (`  jobs: 2`). */
export function definitionDoc(
  database: Database,
  format: 'custom' | 'directory',
  extra: readonly string[] = [],
): string {
  return [
    'apiVersion: pgbackman.io/v1',
    'kind: BackupDefinition',
    'metadata:',
    `  name: ${database}-${format}`,
    'spec:',
    `  server: ${SERVER}`,
    `  node: ${NODE}`,
    `  database: ${database}`,
    '  code: FULL',
    `  format: ${format}`,
    ...extra,
  ].join('\n');
}

/** YAML documents as one file. */
export const yamlFile = (docs: readonly string[]): string => docs.map((doc) => `${doc}\n`).join('---\n');
