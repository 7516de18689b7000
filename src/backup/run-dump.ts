import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import type { Queryable } from '../catalogue/catalogue-db.ts';
import type { CatalogueSession } from '../catalogue/catalogue-session.ts';
import { type ErrorCode, messageOf, PgbackmanError } from '../errors.ts';
import type { SpecOf } from '../manifest/kinds.ts';
import { type EffectiveSettings, resolveSettings } from '../manifest/resolve-settings.ts';
import { type Logger, silentLogger } from '../observability/logger.ts';
import { requireSafeTool } from '../system/path-safety.ts';
import { childEnv } from './dump/conninfo.ts';
import { readNodeInfo } from './dump/node-info.ts';
import { choosePgBinDir, discoverPgBinDirs } from './dump/pg-bin-dirs.ts';
import { type WrittenDump, writeDump } from './dump/write-dump.ts';
import { checkDiskReserve } from './files/disk-reserve.ts';
import { fsync } from './files/hashed-file.ts';
import { dumpLayout } from './files/layout.ts';
import { markOwner, removeDeadPartials, unmarkOwner } from './files/owner-mark.ts';
import { acquireRunLock } from './files/run-lock.ts';
import { failedEnd } from './record/record-run.ts';
import { RunRecorder } from './record/run-recorder.ts';

/** One kind of job: a definition (or snapshot) with its node and server, as the catalogue holds them. */
interface JobOf<K extends 'BackupDefinition' | 'SnapshotDefinition'> {
  readonly kind: K;
  readonly name: string;
  readonly spec: SpecOf<K>;
  readonly node: { readonly name: string; readonly spec: SpecOf<'PgSQLNode'> };
  readonly server: { readonly name: string; readonly spec: SpecOf<'BackupServer'> };
}

/** What to dump. */
export type DumpJob = JobOf<'BackupDefinition'> | JobOf<'SnapshotDefinition'>;

export interface DumpResult {
  readonly id: string;
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly dir: string | null;
  readonly bytes: number | null;
  readonly durationMs: number;
  readonly settings: EffectiveSettings;
  readonly error: string | null;
  /** What kind of failure, and so whether trying again later may help (errors.ts: retryClassOf). */
  readonly errorCode: ErrorCode | null;
  /** Why the record waits in `<root>/.spool/` instead of the catalogue; undefined when it reached it. */
  readonly spoolReason: string | undefined;
  /** The signal that interrupted the run, when one did. */
  readonly interruptedBy: string | undefined;
}

export interface RunDumpOptions {
  /** Aborting it interrupts the run: its tools are sent SIGTERM, its files removed, and it is recorded FAILED. */
  readonly signal?: AbortSignal;
  /** Where the run says what it does; events go here, not into the result. Silent by default. */
  readonly logger?: Logger;
  /** The only directory password files may be read from (the operator's --secrets-dir). */
  readonly secretsDir?: string;
}

/**
 * Takes one dump as the definition says, writes it under a temporary name, syncs it, renames it into
 * place only when every step succeeded, and records it: RUNNING at the start, SUCCEEDED or FAILED at the end.
 */
export async function runDump(
  job: DumpJob,
  catalogue: CatalogueSession | Queryable,
  options: RunDumpOptions = {},
): Promise<DumpResult> {
  const { signal, secretsDir } = options;
  const address = `${job.kind}/${job.name}`;
  const settings = resolveSettings(job.spec, job.node, job.server);
  const root = job.server.spec.rootDirectory ?? '/srv/pgbackman';
  const database = settings.code === 'CLUSTER' ? undefined : job.spec.database;
  await mkdir(root, { recursive: true, mode: 0o700 });
  await checkDiskReserve(root, job.server.spec.diskReserve ?? '5%');
  const release = acquireRunLock(root, `${job.kind}-${job.name}`, address);
  const startedAt = new Date();
  const id = randomUUID();
  const layout = dumpLayout(root, job.node.name, database, settings.code, job.name, startedAt, id);
  const retention =
    job.kind === 'BackupDefinition' ? settings.retention : { period: job.spec.retention?.period ?? '7d' };
  const log = (options.logger ?? silentLogger).child({ run: id, definition: address });
  const recorder = new RunRecorder(catalogue, root, log);
  // The node is asked while the catalogue records the start: both sit before pg_dump can begin.
  const nodeInfo = (async () =>
    readNodeInfo(
      job.node.spec,
      database ?? job.node.spec.maintenanceDatabase ?? 'postgres',
      childEnv(job.node.spec, process.env, secretsDir),
    ))();
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
      host: hostname(),
      pid: process.pid,
    });
    // Debris of runs whose process is gone; a failure to clear it never stops this run.
    await removeDeadPartials(layout, job.name).catch(() => undefined);
  } catch (err) {
    release();
    throw err;
  }
  let serverVersion: string | null = null;
  let pgDumpVersion: string | null = null;
  let databaseBytes: number | null = null;
  const result = (
    status: DumpResult['status'],
    finishedAt: Date,
    written: WrittenDump | null,
    failure: { code: ErrorCode; message: string } | null,
  ): DumpResult => ({
    id,
    status,
    dir: written === null ? null : layout.dir,
    bytes: written?.bytes ?? null,
    durationMs: finishedAt.getTime() - startedAt.getTime(),
    settings,
    error: failure?.message ?? null,
    errorCode: failure?.code ?? null,
    spoolReason: recorder.spoolReason,
    interruptedBy: signal?.aborted ? String(signal.reason) : undefined,
  });
  try {
    let written: WrittenDump;
    try {
      const info = await nodeInfo;
      serverVersion = info.serverVersion;
      databaseBytes = database === undefined ? null : info.databaseBytes;
      const bin = choosePgBinDir(
        discoverPgBinDirs((job.server.spec.pgBinDirectories ?? {}) as Record<string, string>),
        info.serverMajor,
        job.kind === 'SnapshotDefinition' ? job.spec.pgDumpVersion : undefined,
      );
      // Manifests choose the directory: its tools must be ones only root or this user could have put there.
      for (const tool of ['pg_dump', 'pg_dumpall']) requireSafeTool(join(bin.dir, tool));
      signal?.throwIfAborted();
      await mkdir(dirname(layout.partial), { recursive: true, mode: 0o700 });
      await mkdir(layout.partial, { mode: 0o700 });
      await markOwner(layout.partial);
      written = await writeDump(
        {
          node: job.node.spec,
          database,
          settings,
          binDir: bin.dir,
          binMajor: bin.major,
          roles: info.roles,
          env: childEnv(job.node.spec, process.env, secretsDir),
        },
        layout.partial,
        signal,
      );
      pgDumpVersion = written.pgDumpVersion;
      signal?.throwIfAborted();
      await unmarkOwner(layout.partial);
      await fsync(layout.partial);
      await rename(layout.partial, layout.dir);
    } catch (err) {
      // Nothing that could be mistaken for a good dump stays behind.
      await rm(layout.partial, { recursive: true, force: true });
      const finishedAt = new Date();
      const error = signal?.aborted
        ? `interrupted by ${String(signal.reason)} before it finished`
        : messageOf(err);
      const code: ErrorCode = signal?.aborted
        ? 'INTERRUPTED'
        : err instanceof PgbackmanError
          ? err.code
          : 'DUMP_FAILED';
      log.debug({ event: 'run_failed', code, error }, `${address} failed: ${error}`);
      await recorder.end(failedEnd(finishedAt, error, { pgDumpVersion, serverVersion, databaseBytes }));
      await recorder.tidy();
      return result('FAILED', finishedAt, null, { code, message: error });
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
    log.debug(
      { event: 'run_succeeded', bytes: written.bytes, dir: layout.dir },
      `${address} succeeded: ${written.bytes} bytes in ${layout.dir}`,
    );
    await recorder.tidy();
    return result('SUCCEEDED', finishedAt, written, null);
  } finally {
    release();
  }
}
