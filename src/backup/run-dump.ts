import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { Queryable } from '../catalogue/catalogue-db.ts';
import type { BackupServer, PgSQLNode } from '../manifest/generated/manifest-types.ts';
import { type EffectiveSettings, resolveSettings } from '../manifest/resolve-settings.ts';
import { captureTool, databaseConfig } from './capture-tool.ts';
import { childEnv, conninfo } from './conninfo.ts';
import { checkDiskReserve } from './disk-reserve.ts';
import { filterRoles } from './filter-roles.ts';
import { TreeFollower } from './follow-tree.ts';
import { fsync, writeHashed, writeSmall } from './hashed-file.ts';
import { dumpLayout } from './layout.ts';
import { readNodeInfo } from './node-info.ts';
import { choosePgBinDir, discoverPgBinDirs } from './pg-bin-dirs.ts';
import { dumpFileName, pgDumpArgs } from './pg-dump-args.ts';
import { acquireRunLock } from './run-lock.ts';
import { RunRecorder } from './run-recorder.ts';
import { spawnTool } from './spawn-tool.ts';

const run = promisify(execFile);

/** What to dump: a definition (or snapshot) with its node and server, as the catalogue holds them. */
export interface DumpJob {
  readonly kind: 'BackupDefinition' | 'SnapshotDefinition';
  readonly name: string;
  readonly spec: { server: string; node: string; database?: string; pgDumpVersion?: number } & Record<
    string,
    unknown
  >;
  readonly node: { readonly name: string; readonly spec: PgSQLNode['spec'] };
  readonly server: { readonly name: string; readonly spec: BackupServer['spec'] };
}

export interface DumpResult {
  readonly id: string;
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly dir: string | null;
  readonly bytes: number | null;
  readonly durationMs: number;
  readonly settings: EffectiveSettings;
  readonly error: string | null;
  /** True when the catalogue could not be reached and the record waits in `<root>/.spool/`. */
  readonly spooled: boolean;
  /** Records of earlier runs that were waiting in the spool and reached the catalogue at this run's start. */
  readonly replayed: number;
}

/**
 * Takes one dump as the definition says, writes it under a temporary name, syncs it, renames it into
 * place only when every step succeeded, and records it: RUNNING at the start, SUCCEEDED or FAILED at the end.
 */
export async function runDump(job: DumpJob, catalogue: Queryable): Promise<DumpResult> {
  const settings = resolveSettings(
    job.spec as never,
    { spec: job.node.spec } as PgSQLNode,
    { spec: job.server.spec } as BackupServer,
  );
  const root = job.server.spec.rootDirectory ?? '/srv/pgbackman';
  const database = settings.code === 'CLUSTER' ? undefined : job.spec.database;
  await mkdir(root, { recursive: true, mode: 0o700 });
  await checkDiskReserve(root, job.server.spec.diskReserve ?? '5%');
  const release = acquireRunLock(root, `${job.kind}-${job.name}`);
  const startedAt = new Date();
  const id = randomUUID();
  const layout = dumpLayout(root, job.node.name, database, settings.code, job.name, startedAt, id);
  const retention =
    job.kind === 'BackupDefinition'
      ? settings.retention
      : { period: (job.spec.retention as { period?: string } | undefined)?.period ?? '7d' };
  const recorder = new RunRecorder(catalogue, root);
  const maintenance = job.node.spec.maintenanceDatabase ?? 'postgres';
  // The node is asked while the catalogue records the start: both sit before pg_dump can begin.
  const nodeInfo = (async () =>
    readNodeInfo(job.node.spec, database ?? maintenance, childEnv(job.node.spec)))();
  nodeInfo.catch(() => undefined);
  try {
    await recorder.start({
      id,
      server: job.server.name,
      node: job.node.name,
      database: database ?? null,
      code: settings.code,
      definition: job.kind === 'BackupDefinition' ? job.name : null,
      snapshot: job.kind === 'SnapshotDefinition' ? job.name : null,
      startedAt,
      retention,
    });
  } catch (err) {
    release();
    throw err;
  }
  let serverVersion: string | null = null;
  let pgDumpVersion: string | null = null;
  let databaseBytes: number | null = null;
  try {
    const info = await nodeInfo;
    const env = childEnv(job.node.spec);
    serverVersion = info.serverVersion;
    databaseBytes = database === undefined ? null : info.databaseBytes;
    const bin = choosePgBinDir(
      discoverPgBinDirs((job.server.spec.pgBinDirectories ?? {}) as Record<string, string>),
      info.serverMajor,
      job.spec.pgDumpVersion,
    );
    // Only the record needs it: asked while the dump runs.
    const toolVersion = run(join(bin.dir, 'pg_dump'), ['--version']).then((r) =>
      r.stdout.trim().replace(/^pg_dump \(PostgreSQL\) /, ''),
    );
    toolVersion.catch(() => undefined);
    await mkdir(dirname(layout.partial), { recursive: true, mode: 0o700 });
    await mkdir(layout.partial, { mode: 0o700 });
    const log = join(layout.partial, 'dump.log');
    const connection = conninfo(job.node.spec, database ?? maintenance);
    const fileName = dumpFileName(settings);
    const target = join(layout.partial, fileName);
    const cmd = pgDumpArgs(settings, connection, target);
    // The roles and the database's configuration are small: taken alongside the dump, not after it.
    const globalsLog = join(layout.partial, 'globals.log');
    const rolesSql =
      database !== undefined && settings.includeRoles
        ? captureTool(
            join(bin.dir, 'pg_dumpall'),
            ['--dbname', conninfo(job.node.spec, maintenance), '--roles-only', '--no-password'],
            env,
            globalsLog,
          )
        : undefined;
    const configSql =
      database !== undefined && settings.includeDatabaseConfig
        ? captureTool(
            join(bin.dir, 'pg_dump'),
            ['--dbname', connection, '--no-password', '--create', '--schema-only', '--schema=pg_toast'],
            env,
            globalsLog,
          )
        : undefined;
    // Observed now, so a failure of one while the dump runs is never an unhandled rejection.
    const globals = Promise.allSettled([rolesSql, configSql]);
    const tool = spawnTool(join(bin.dir, cmd.tool), cmd.args, env, log);
    const sha256: Record<string, unknown> = {};
    let bytes: number;
    try {
      if (cmd.output === 'stdout') {
        const [written] = await Promise.all([writeHashed(tool.stdout, target), tool.done]);
        sha256[fileName] = written.sha256;
        bytes = written.bytes;
      } else {
        const follower = new TreeFollower(target);
        try {
          tool.stdout.resume();
          await tool.done;
          const tree = await follower.finish();
          sha256[fileName] = tree.files;
          bytes = tree.bytes;
        } finally {
          await follower.close();
        }
      }
    } finally {
      await globals;
    }
    pgDumpVersion = await toolVersion;
    let rolesPath: string | null = null;
    let configPath: string | null = null;
    if (rolesSql !== undefined) {
      rolesPath = join(layout.dir, 'roles.sql');
      sha256['roles.sql'] = await writeSmall(
        join(layout.partial, 'roles.sql'),
        filterRoles(await rolesSql, info.roles),
      );
    }
    if (configSql !== undefined) {
      configPath = join(layout.dir, 'config.sql');
      sha256['config.sql'] = await writeSmall(
        join(layout.partial, 'config.sql'),
        databaseConfig(await configSql),
      );
    }
    for (const f of ['roles.sql', 'config.sql', 'dump.log', 'globals.log'])
      await fsync(join(layout.partial, f)).catch(() => undefined);
    await fsync(layout.partial);
    await rename(layout.partial, layout.dir);
    await fsync(dirname(layout.dir));
    const finishedAt = new Date();
    await recorder.end({
      status: 'SUCCEEDED',
      finishedAt,
      dumpBytes: bytes,
      dumpPath: join(layout.dir, fileName),
      logPath: join(layout.dir, 'dump.log'),
      rolesPath,
      configPath,
      sha256,
      pgDumpVersion,
      serverVersion,
      databaseBytes,
      error: null,
    });
    return {
      id,
      status: 'SUCCEEDED',
      dir: layout.dir,
      bytes,
      durationMs: finishedAt.getTime() - startedAt.getTime(),
      settings,
      error: null,
      spooled: recorder.spooled,
      replayed: recorder.replayed,
    };
  } catch (err) {
    // Nothing that could be mistaken for a good dump stays behind.
    await rm(layout.partial, { recursive: true, force: true });
    const finishedAt = new Date();
    const error = err instanceof Error ? err.message : String(err);
    await recorder.end({
      status: 'FAILED',
      finishedAt,
      dumpBytes: null,
      dumpPath: null,
      logPath: null,
      rolesPath: null,
      configPath: null,
      sha256: null,
      pgDumpVersion,
      serverVersion,
      databaseBytes,
      error,
    });
    return {
      id,
      status: 'FAILED',
      dir: null,
      bytes: null,
      durationMs: finishedAt.getTime() - startedAt.getTime(),
      settings,
      error,
      spooled: recorder.spooled,
      replayed: recorder.replayed,
    };
  } finally {
    release();
  }
}
