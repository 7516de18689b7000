import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import type { Queryable } from '../catalogue/catalogue-db.ts';
import { type ErrorCode, isPgbackmanError } from '../errors.ts';
import type { BackupServer, PgSQLNode } from '../manifest/generated/manifest-types.ts';
import { type EffectiveSettings, resolveSettings } from '../manifest/resolve-settings.ts';
import { checkClusterNames } from './dump/cluster-names.ts';
import { childEnv } from './dump/conninfo.ts';
import { type NodeInfo, readNodeInfo } from './dump/node-info.ts';
import { choosePgBinDir, discoverPgBinDirs } from './dump/pg-bin-dirs.ts';
import { type WrittenDump, writeDump } from './dump/write-dump.ts';
import { asDiskFull } from './files/disk-full.ts';
import { checkDiskReserve } from './files/disk-reserve.ts';
import { fsync } from './files/hashed-file.ts';
import { dumpLayout } from './files/layout.ts';
import { ensureOwnDirs } from './files/own-dirs.ts';
import { markOwner, removeDeadPartials, unmarkOwner } from './files/owner-mark.ts';
import { acquireRunLock } from './files/run-lock.ts';
import { failedEnd } from './record/record-run.ts';
import { RunRecorder } from './record/run-recorder.ts';
import type { SetAside } from './record/spool.ts';

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
  /** The code of a failure pgbackman diagnosed itself (DISK_FULL, NODE_UNREACHABLE, …); null otherwise. */
  readonly errorCode: ErrorCode | null;
  /** Why the record waits in `<root>/.spool/` instead of the catalogue; undefined when it reached it. */
  readonly spoolReason: string | undefined;
  /** Records of earlier runs that were waiting in the spool and reached the catalogue at this run's start. */
  readonly replayed: number;
  /** Spool files that replay set aside at this run (unreadable, or refused by the catalogue): never silent. */
  readonly setAside: readonly SetAside[];
  /** Earlier runs of this definition whose process stopped mid-way, found RUNNING and now recorded FAILED. */
  readonly interrupted: number;
  /** Earlier runs whose process stopped after their dump was in place: now hashed and recorded SUCCEEDED. */
  readonly recovered: number;
}

export interface RunDumpOptions {
  /** Aborting it interrupts the run: its tools are sent SIGTERM, its files removed, and it is recorded FAILED. */
  readonly signal?: AbortSignal;
}

/**
 * Takes one dump as the definition says, writes it under a temporary name, syncs it, renames it into
 * place only when every step succeeded, and records it: RUNNING at the start, SUCCEEDED or FAILED at the end.
 */
export async function runDump(
  job: DumpJob,
  catalogue: Queryable,
  options: RunDumpOptions = {},
): Promise<DumpResult> {
  const { signal } = options;
  const settings = resolveSettings(
    job.spec as never,
    { spec: job.node.spec } as PgSQLNode,
    { spec: job.server.spec } as BackupServer,
  );
  const root = job.server.spec.rootDirectory ?? '/srv/pgbackman';
  const database = settings.code === 'CLUSTER' ? undefined : job.spec.database;
  const startedAt = new Date();
  const id = randomUUID();
  const layout = dumpLayout(root, job.node.name, database, settings.code, job.name, startedAt, id);
  // The node answers and a pg_dump for it is found before anything is created under the root: a run that
  // cannot start leaves nothing behind (it is still recorded FAILED).
  let info: NodeInfo | undefined;
  let bin: ReturnType<typeof choosePgBinDir> | undefined;
  let notStarted: { readonly err: unknown } | undefined;
  try {
    info = await readNodeInfo(
      job.node.spec,
      database ?? job.node.spec.maintenanceDatabase ?? 'postgres',
      childEnv(job.node.spec),
    );
    checkClusterNames(settings, job.node.name, info.newlineDatabases);
    bin = choosePgBinDir(
      discoverPgBinDirs((job.server.spec.pgBinDirectories ?? {}) as Record<string, string>),
      info.serverMajor,
      job.spec.pgDumpVersion,
    );
  } catch (err) {
    notStarted = { err };
  }
  let release: () => void = () => undefined;
  if (notStarted === undefined) {
    // Every directory of the layout is created and checked: a symlink or a foreign owner is refused here.
    ensureOwnDirs(root, ...layout.parents);
    await checkDiskReserve(root, job.server.spec.diskReserve ?? '5%');
    release = acquireRunLock(root, `${job.kind}-${job.name}`);
  }
  const retention =
    job.kind === 'BackupDefinition'
      ? settings.retention
      : { period: (job.spec.retention as { period?: string } | undefined)?.period ?? '7d' };
  const recorder = new RunRecorder(catalogue, root);
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
      host: hostname(),
      pid: process.pid,
    });
    // Debris of runs whose process is gone; a failure to clear it never stops this run.
    if (notStarted === undefined) await removeDeadPartials(layout, job.name).catch(() => undefined);
  } catch (err) {
    release();
    throw err;
  }
  let serverVersion: string | null = null;
  let pgDumpVersion: string | null = null;
  let databaseBytes: number | null = null;
  let errorCode: ErrorCode | null = null;
  const result = (
    status: DumpResult['status'],
    finishedAt: Date,
    written: WrittenDump | null,
    error: string | null,
  ): DumpResult => ({
    id,
    status,
    dir: written === null ? null : layout.dir,
    bytes: written?.bytes ?? null,
    durationMs: finishedAt.getTime() - startedAt.getTime(),
    settings,
    error,
    errorCode,
    spoolReason: recorder.spoolReason,
    replayed: recorder.replayed,
    setAside: recorder.setAside,
    interrupted: recorder.interrupted,
    recovered: recorder.recovered,
  });
  try {
    let written: WrittenDump;
    try {
      serverVersion = info?.serverVersion ?? null;
      databaseBytes = database === undefined ? null : (info?.databaseBytes ?? null);
      if (notStarted !== undefined) throw notStarted.err;
      signal?.throwIfAborted();
      await mkdir(layout.partial, { mode: 0o700 });
      await markOwner(layout.partial);
      written = await writeDump(
        {
          node: job.node.spec,
          database,
          settings,
          binDir: (bin as NonNullable<typeof bin>).dir,
          roles: (info as NodeInfo).roles,
          env: childEnv(job.node.spec),
        },
        layout.partial,
        signal,
      );
      pgDumpVersion = written.pgDumpVersion;
      signal?.throwIfAborted();
      await unmarkOwner(layout.partial);
      await fsync(layout.partial);
      await rename(layout.partial, layout.dir);
    } catch (thrown) {
      // Nothing that could be mistaken for a good dump stays behind.
      await rm(layout.partial, { recursive: true, force: true });
      const err = await asDiskFull(thrown, layout.partial);
      errorCode = isPgbackmanError(err) && !signal?.aborted ? err.code : null;
      const finishedAt = new Date();
      const error = signal?.aborted
        ? `interrupted by ${String(signal.reason)} before it finished`
        : err instanceof Error
          ? err.message
          : String(err);
      await recorder.end(failedEnd(finishedAt, error, { pgDumpVersion, serverVersion, databaseBytes }));
      // Without the node there is no run lock, and tidying judges old runs by it: left to the next run.
      if (notStarted === undefined) await recorder.tidy();
      return result('FAILED', finishedAt, null, error);
    }
    // From here the dump is in place: whatever happens next, it is never recorded FAILED or removed.
    await fsync(dirname(layout.dir)).catch(() => undefined);
    const finishedAt = new Date();
    await recorder.end({
      status: 'SUCCEEDED',
      finishedAt,
      dumpBytes: written.bytes,
      dumpPath: join(layout.dir, written.fileName),
      logPath: join(layout.dir, 'dump.log'),
      rolesPath: written.roles ? join(layout.dir, 'roles.sql') : null,
      configPath: written.config ? join(layout.dir, 'config.sql') : null,
      sha256: written.sha256,
      pgDumpVersion,
      serverVersion,
      databaseBytes,
      error: null,
    });
    await recorder.tidy();
    return result('SUCCEEDED', finishedAt, written, null);
  } finally {
    release();
  }
}
