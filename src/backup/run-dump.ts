import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import type { Queryable } from '../catalogue/catalogue-db.ts';
import type { CatalogueSession } from '../catalogue/catalogue-session.ts';
import { type CopiedFile, type DumpCopy, missingCopies } from '../catalogue/dump-copies.ts';
import { type ErrorCode, messageOf, PgbackmanError } from '../errors.ts';
import { parseDuration } from '../manifest/check-values.ts';
import type { SpecOf } from '../manifest/kinds.ts';
import { type EffectiveSettings, resolveSettings } from '../manifest/resolve-settings.ts';
import { type Logger, silentLogger } from '../observability/logger.ts';
import type { AllowedDestination } from '../storage/allowed-destinations.ts';
import { type CopyRequest, copyDump } from '../storage/copy-dump.ts';
import {
  closeLiveCopies,
  type LiveCopy,
  openLiveCopies,
  teeTarget,
  treeStreams,
} from '../storage/live-copies.ts';
import { furtherOf, storageOf } from '../storage/run-destinations.ts';
import { deadline } from '../system/deadline.ts';
import { requireSafeTool } from '../system/path-safety.ts';
import { checkClusterNames } from './dump/cluster-names.ts';
import { childEnv } from './dump/conninfo.ts';
import { renderDatabaseConfig } from './dump/database-config.ts';
import { type NodeInfo, readNodeInfo } from './dump/node-info.ts';
import { choosePgBinDir, discoverPgBinDirs } from './dump/pg-bin-dirs.ts';
import { DEFAULT_SECRETS_DIR } from './dump/read-password-file.ts';
import { type WrittenDump, writeDump } from './dump/write-dump.ts';
import { backupManifest, writeBackupManifest } from './files/backup-manifest.ts';
import { asDiskFull } from './files/disk-full.ts';
import { checkDiskReserve } from './files/disk-reserve.ts';
import { fsync } from './files/hashed-file.ts';
import { dumpLayout, rootDirectoryOf } from './files/layout.ts';
import { ensureOwnDirs } from './files/own-dirs.ts';
import { markOwner, removeDeadPartials, unmarkOwner } from './files/owner-mark.ts';
import { acquireRunLock } from './files/run-lock.ts';
import { failedEnd } from './record/record-run.ts';
import { RunRecorder } from './record/run-recorder.ts';
import type { SetAside } from './record/spool.ts';

/** One kind of job: a definition (or snapshot) with its node and server, as the catalogue holds them. */
interface JobOf<K extends 'BackupDefinition' | 'SnapshotDefinition'> {
  readonly kind: K;
  readonly name: string;
  readonly spec: SpecOf<K>;
  readonly node: { readonly name: string; readonly spec: SpecOf<'PgSQLNode'> };
  readonly server: { readonly name: string; readonly spec: SpecOf<'BackupServer'> };
  /** The manifest revision the definition was last applied from (its source_revision), when known. */
  readonly revision?: string | null;
}

/** What to dump. */
export type DumpJob = JobOf<'BackupDefinition'> | JobOf<'SnapshotDefinition'>;

export interface DumpResult {
  readonly id: string;
  /** SUCCEEDED_PARTIAL: the dump is in the root directory, but a further destination does not have it (error says which). */
  readonly status: 'SUCCEEDED' | 'SUCCEEDED_PARTIAL' | 'FAILED';
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
  /** Spool files that replay set aside at this run (unreadable, or refused by the catalogue): for metrics. */
  readonly setAside: readonly SetAside[];
  /** With `deferTidy`: the tidying of earlier runs that follows the record; the run lock is held until then. */
  readonly tidied?: Promise<void>;
  /** Each further destination of the server's storage (after the root directory): what arrived there, or why not. */
  readonly copies: readonly DumpCopy[];
  /** True when `dir` only staged the dump (its storage starts with a bucket) and was removed once every copy was made. */
  readonly released?: boolean;
}

export interface RunDumpOptions {
  /** Aborting it interrupts the run: its tools are sent SIGTERM, its files removed, and it is recorded FAILED. */
  readonly signal?: AbortSignal;
  /** Where the run says what it does; events go here, not into the result. Silent by default. */
  readonly logger?: Logger;
  /** The only directory password files may be read from (the operator's --secrets-dir). */
  readonly secretsDir?: string;
  /** The revision to record on the run (the agent's applied revision); by default the job's own. */
  readonly revision?: string | null;
  /**
   * Return once a good dump is in place and recorded, and tidy earlier runs after (`tidied`): the agent then
   * reports the run done without waiting for that housekeeping. The CLI waits for it, to print its notes.
   */
  readonly deferTidy?: boolean;
  /** Where the operator lets copies go (--allow-destination): a destination outside them is not sent anything. */
  readonly allowedDestinations?: readonly AllowedDestination[];
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
  const root = rootDirectoryOf(job.server.spec);
  const database = settings.code === 'CLUSTER' ? undefined : job.spec.database;
  const startedAt = new Date();
  const id = randomUUID();
  const layout = dumpLayout(root, job.node.name, database, settings.code, job.name, startedAt, id);
  const log = (options.logger ?? silentLogger).child({ run: id, definition: address });
  // The definition's timeout bounds the whole run: a node that stops answering mid-dump cannot hold it forever.
  const limit = deadline(parseDuration(settings.timeout), () => `its timeout of ${settings.timeout}`);
  const stop = signal === undefined ? limit.signal : AbortSignal.any([signal, limit.signal]);
  const recorder = new RunRecorder(catalogue, root, log);
  // Its connection is made while the node is asked: the RUNNING row then costs one statement.
  recorder.prepare();
  // The node answers and a pg_dump for it is found before anything is created under the root: a run that
  // cannot start leaves nothing behind (it is still recorded FAILED).
  const ready = await askNode(job, settings, database, secretsDir).then(
    (r) => ({ ok: true as const, ...r }),
    (err: unknown) => ({ ok: false as const, err }),
  );
  let release: () => void = () => undefined;
  let tidying: Promise<void> | undefined;
  if (ready.ok) {
    // Every directory of the layout is created and checked: a symlink or a foreign owner is refused here.
    ensureOwnDirs(root, ...layout.parents);
    await checkDiskReserve(root, job.server.spec.diskReserve ?? '5%');
    release = acquireRunLock(root, `${job.kind}-${job.name}`, address);
  }
  // Stored on the run: a deleted definition's dumps age out under the rules they were taken with.
  const retention =
    job.kind === 'BackupDefinition'
      ? { ...settings.retention, timezone: settings.timezone }
      : { period: job.spec.retention?.period ?? '7d', redundancy: 0 };
  const revision = options.revision ?? job.revision ?? null;
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
      revision,
    });
    // Debris of runs whose process is gone; a failure to clear it never stops this run.
    if (ready.ok) await removeDeadPartials(layout, job.name).catch(() => undefined);
  } catch (err) {
    limit.clear();
    release();
    throw err;
  }
  const info = ready.ok ? ready.info : undefined;
  // Further destinations receive a dump that passes through pgbackman (plain, tar, CLUSTER, encrypted) as it
  // is written, and a directory-format dump file by file as pg_dump writes each: one pass over its output.
  // The small files, and a custom dump pg_dump writes itself, are copied after.
  const folder = relative(root, layout.dir).split(sep).join('/');
  const live = ready.ok
    ? openLiveCopies(furtherOf(storageOf(job.server.spec, job.spec)), {
        allowed: options.allowedDestinations ?? [],
        env: process.env,
        secretsDir: secretsDir ?? DEFAULT_SECRETS_DIR,
        expectedBytes: ready.info.databaseBytes ?? undefined,
      })
    : [];
  const serverVersion = info?.serverVersion ?? null;
  const databaseBytes = database === undefined ? null : (info?.databaseBytes ?? null);
  let pgDumpVersion: string | null = null;
  let copies: readonly DumpCopy[] = [];
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
    setAside: recorder.setAside,
    copies,
  });
  try {
    let written: WrittenDump;
    // When the dump was complete: what backup.json says, and the catalogue records, whatever follows.
    let finishedAt: Date;
    try {
      if (!ready.ok) throw ready.err;
      stop.throwIfAborted();
      await mkdir(layout.partial, { mode: 0o700 });
      await markOwner(layout.partial);
      written = await writeDump(
        {
          node: job.node.spec,
          database,
          settings,
          binDir: ready.bin.dir,
          binMajor: ready.bin.major,
          roles: ready.info.roles,
          config:
            ready.info.databaseFacts === null
              ? undefined
              : renderDatabaseConfig(ready.info.databaseFacts, ready.info.serverVersion),
          env: ready.env,
          ...(live.length === 0
            ? {}
            : {
                tee: (file, target) => teeTarget(target, live, folder, file, stop),
                streamTree: (dir) => treeStreams(live, folder, dir, stop),
              }),
        },
        layout.partial,
        stop,
        // The end's connection is made while the dump is hashed and synced.
        () => recorder.prepare(),
      );
      pgDumpVersion = written.pgDumpVersion;
      stop.throwIfAborted();
      finishedAt = new Date();
      // Inside the .partial directory, synced before it is renamed: a finished folder always has one.
      await writeBackupManifest(
        layout.partial,
        backupManifest({
          runId: id,
          definition: job.kind === 'BackupDefinition' ? job.name : null,
          snapshot: job.kind === 'SnapshotDefinition' ? job.name : null,
          server: job.server.name,
          node: job.node.name,
          database: database ?? null,
          settings,
          pgDumpVersion: written.pgDumpVersion,
          serverVersion: ready.info.serverVersion,
          systemIdentifier: ready.info.systemIdentifier,
          tables: database === undefined ? null : ready.info.tables,
          databaseBytes,
          startedAt,
          finishedAt,
          revision,
          dump: written,
          retention,
        }),
      );
      stop.throwIfAborted();
      await unmarkOwner(layout.partial);
      await fsync(layout.partial);
      await rename(layout.partial, layout.dir);
    } catch (thrown) {
      // Nothing that could be mistaken for a good dump stays behind, here or where it was streamed to.
      await rm(layout.partial, { recursive: true, force: true });
      await removeStreamed(live, folder);
      const err = await asDiskFull(thrown, layout.partial);
      const finishedAt = new Date();
      const error = signal?.aborted
        ? `interrupted by ${String(signal.reason)} before it finished`
        : limit.expired
          ? `took longer than its timeout of ${settings.timeout}: stopped and its files removed (the node may have stopped answering, or ${settings.code === 'CLUSTER' ? 'pg_dumpall' : 'pg_dump'} waited for a lock; if the dump needs longer, raise timeout)`
          : messageOf(err);
      const code: ErrorCode = signal?.aborted
        ? 'INTERRUPTED'
        : limit.expired
          ? 'TIMEOUT'
          : err instanceof PgbackmanError
            ? err.code
            : 'DUMP_FAILED';
      log.debug({ event: 'run_failed', code, error }, `${address} failed: ${error}`);
      await recorder.end(failedEnd(finishedAt, error, { pgDumpVersion, serverVersion, databaseBytes }));
      // Without the node there is no run lock, and tidying judges old runs by it: left to the next run.
      if (ready.ok) await recorder.tidy();
      return result('FAILED', finishedAt, null, { code, message: error });
    }
    // From here the dump is in place: whatever happens next, it is never recorded FAILED or removed.
    await fsync(dirname(layout.dir)).catch(() => undefined);
    await recorder.end(
      {
        status: 'SUCCEEDED',
        finishedAt,
        dumpBytes: written.bytes,
        dumpPath: join(layout.dir, written.fileName),
        logPath: join(layout.dir, 'dump.log'),
        rolesPath: written.roles ? join(layout.dir, `roles.sql${written.suffix}`) : null,
        configPath: written.config ? join(layout.dir, `config.sql${written.suffix}`) : null,
        sha256: written.sha256,
        encryption: written.encryption ?? null,
        pgDumpVersion,
        serverVersion,
        databaseBytes,
        error: null,
        tableEstimates: database === undefined ? null : (info?.tables ?? null),
        sourceSystemIdentifier: info?.systemIdentifier ?? null,
      },
      furtherOf(storageOf(job.server.spec, job.spec)).map((d) => d.name),
    );
    log.debug(
      { event: 'run_succeeded', bytes: written.bytes, dir: layout.dir },
      `${address} succeeded: ${written.bytes} bytes in ${layout.dir}`,
    );
    copies = await copyToStorage(job, id, root, layout.dir, written.sha256, recorder, log, {
      allowed: options.allowedDestinations ?? [],
      secretsDir: secretsDir ?? DEFAULT_SECRETS_DIR,
      signal: stop,
      streamed: new Map(live.map((l) => [l.name, l.sent])),
    });
    const missing = missingCopies(copies);
    const released =
      missing === null &&
      (await recorder.releaseRoot(
        join(layout.dir, written.fileName),
        storageOf(job.server.spec, job.spec),
        options.allowedDestinations ?? [],
      ));
    if (released)
      log.info(
        { event: 'root_released', run: id, dir: layout.dir },
        `every destination holds the dump: its staging folder ${layout.dir} is removed`,
      );
    tidying = recorder.tidy();
    const done =
      missing === null
        ? { ...result('SUCCEEDED', finishedAt, written, null), ...(released ? { released } : {}) }
        : { ...result('SUCCEEDED_PARTIAL', finishedAt, written, null), error: missing };
    if (options.deferTidy === true) return { ...done, tidied: tidying };
    await tidying;
    return done;
  } finally {
    closeLiveCopies(live);
    limit.clear();
    // The lock is kept while earlier runs are tidied: tidying judges them by it (recorder.tidy never throws).
    if (tidying === undefined) release();
    else void tidying.finally(release);
  }
}

/**
 * A successful dump's copies to the server's further destinations, each logged and recorded. A copy that
 * fails leaves the dump as it is: it is still SUCCEEDED, with that destination's error beside it.
 */
async function copyToStorage(
  job: DumpJob,
  runId: string,
  root: string,
  dir: string,
  recorded: Record<string, unknown>,
  recorder: RunRecorder,
  log: Logger,
  o: {
    allowed: readonly AllowedDestination[];
    secretsDir: string;
    signal: AbortSignal;
    streamed: ReadonlyMap<string, Readonly<Record<string, CopiedFile>>>;
  },
): Promise<readonly DumpCopy[]> {
  const destinations = furtherOf(storageOf(job.server.spec, job.spec));
  if (destinations.length === 0) return [];
  await recorder.copiesPending(destinations.map((d) => d.name));
  const copies = await copyDump({
    runId,
    root,
    dir,
    recorded: recorded as CopyRequest['recorded'],
    destinations,
    allowed: o.allowed,
    env: process.env,
    secretsDir: o.secretsDir,
    signal: o.signal,
    streamed: o.streamed,
  });
  for (const c of copies)
    if (c.status === 'COPIED')
      log.info(
        { event: 'copy_succeeded', destination: c.destination, location: c.location, bytes: c.bytes },
        `copied to ${c.destination}: ${c.location}`,
      );
    else
      log.warn(
        { event: 'copy_failed', destination: c.destination, location: c.location, error: c.error },
        `copy to ${c.destination} failed: ${c.error}`,
      );
  const unrecorded = await recorder.recordCopies(copies);
  if (unrecorded !== undefined)
    log.warn(
      { event: 'copies_not_recorded', error: unrecorded },
      `the copies were not recorded: ${unrecorded}`,
    );
  return copies;
}

/** A failed run's files that were streamed to further destinations before it failed: removed, best effort. */
/** How long a failed run may spend removing what it streamed to its further destinations. */
const REMOVE_STREAMED_MS = 10_000;

async function removeStreamed(live: readonly LiveCopy[], folder: string): Promise<void> {
  // Bounded: a store that hangs must not hold a failed run (or the agent's shutdown) for its whole timeout.
  const signal = AbortSignal.timeout(REMOVE_STREAMED_MS);
  for (const l of live)
    for (const file of Object.keys(l.sent))
      await l.destination.delete(`${folder}/${file}`, signal).catch(() => undefined);
}

/** What must hold before the run touches the root: the node answers, and a safe pg_dump for it exists. */
async function askNode(
  job: DumpJob,
  settings: EffectiveSettings,
  database: string | undefined,
  secretsDir: string | undefined,
): Promise<{ info: NodeInfo; bin: ReturnType<typeof choosePgBinDir>; env: NodeJS.ProcessEnv }> {
  // The password too: a secret the operator has not allowed fails the run, recorded, like a node that is down.
  const env = childEnv(job.node.spec, process.env, secretsDir);
  const info = await readNodeInfo(
    job.node.spec,
    database ?? job.node.spec.maintenanceDatabase ?? 'postgres',
    env,
    { facts: database !== undefined && settings.includeDatabaseConfig },
  );
  checkClusterNames(settings, job.node.name, info.newlineDatabases);
  const bin = choosePgBinDir(
    discoverPgBinDirs((job.server.spec.pgBinDirectories ?? {}) as Record<string, string>),
    info.serverMajor,
    job.kind === 'SnapshotDefinition' ? job.spec.pgDumpVersion : undefined,
  );
  // Manifests choose the directory: its tools must be ones only root or this user could have put there.
  for (const tool of ['pg_dump', 'pg_dumpall']) requireSafeTool(join(bin.dir, tool));
  return { info, bin, env };
}
