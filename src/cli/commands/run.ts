import { DEFAULT_SECRETS_DIR } from '../../backup/dump/read-password-file.ts';
import { readJob } from '../../backup/read-job.ts';
import { cacheJob, jobCacheDir, readCachedJob } from '../../backup/record/job-cache.ts';
import { type DumpJob, runDump } from '../../backup/run-dump.ts';
import type { CatalogueDb } from '../../catalogue/catalogue-db.ts';
import {
  type CatalogueSession,
  heldSession,
  openWaiting,
  runSession,
} from '../../catalogue/catalogue-session.ts';
import { requireCurrentSchema } from '../../catalogue/migrate.ts';
import { safeLocation } from '../../catalogue/open-catalogue.ts';
import { offlineCatalogue, unreachableReason } from '../../catalogue/unreachable.ts';
import { PgbackmanError } from '../../errors.ts';
import { createLogger, type Logger } from '../../observability/logger.ts';
import type { AllowedDestination } from '../../storage/allowed-destinations.ts';
import { ExitCode, exitCodeForSignal } from '../exit-codes.ts';
import { humanBytes } from '../human-bytes.ts';
import type { Output } from '../output.ts';

type JobKind = DumpJob['kind'];

/**
 * `pgbackman run NAME`: one dump now, in the foreground, recorded in the catalogue like any other.
 * When the catalogue cannot be reached, the dump is taken from the copy the last run cached, and its
 * record waits in the spool. The embedded catalogue is held only while the run reads or writes it, not
 * while pg_dump works, so other commands can use it meanwhile.
 */
export async function runRun(
  name: string,
  location: string,
  flags: {
    snapshot: boolean;
    secretsDir?: string | undefined;
    allowedDestinations?: readonly AllowedDestination[];
  },
  output: Output,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ExitCode> {
  const kind: JobKind = flags.snapshot ? 'SnapshotDefinition' : 'BackupDefinition';
  const cacheDir = jobCacheDir(env);
  const catalogueId = safeLocation(location);
  // The CLI's human lines on stderr; the agent gives the executor a JSON logger instead.
  const log = createLogger({ format: 'human', stream: output.err });
  let db: CatalogueDb | undefined;
  let job: DumpJob;
  let catalogue: CatalogueSession;
  let caching: Promise<void> = Promise.resolve();
  try {
    db = await openWaiting(location, 'run');
    await requireCurrentSchema(db);
    job = await readJob(db, kind, name);
    // The session owns it now: the start record is written on this open, then it is closed (embedded).
    catalogue = runSession(db, location, 'run');
    db = undefined;
    // Written while the dump runs; a failure to cache costs a warning, never the dump.
    caching = cacheJob(cacheDir, catalogueId, job).catch((err: Error) => {
      log.warn({ event: 'cache_failed' }, `could not cache ${kind}/${name} in ${cacheDir}: ${err.message}`);
    });
  } catch (err) {
    await db?.close().catch(() => undefined);
    db = undefined;
    const reason = unreachableReason(err);
    if (reason === undefined) throw err;
    const cached = await readCachedJob(cacheDir, catalogueId, kind, name).catch((cacheErr: Error) => {
      throw new PgbackmanError('CATALOGUE_UNREACHABLE', `${reason}\n  and ${cacheErr.message}`, {
        cause: err,
      });
    });
    log.warn(
      { event: 'catalogue_unreachable', cachedAt: cached.cachedAt },
      `${reason}\n  running ${kind}/${name} as the catalogue had it at ${cached.cachedAt} (cached in ${cacheDir})`,
    );
    job = cached.job;
    catalogue = heldSession(offlineCatalogue(reason));
  }
  try {
    const secretsDir = flags.secretsDir ?? (env.PGBACKMAN_SECRETS_DIR || DEFAULT_SECRETS_DIR);
    return await takeDump(job, catalogue, output, log, secretsDir, flags.allowedDestinations ?? []);
  } finally {
    await caching;
    await catalogue.close();
  }
}

async function takeDump(
  job: DumpJob,
  catalogue: CatalogueSession,
  output: Output,
  log: Logger,
  secretsDir: string,
  allowedDestinations: readonly AllowedDestination[],
): Promise<ExitCode> {
  const target = job.spec.database ?? 'the whole node';
  output.err.write(`Dumping ${target} on ${job.node.name} for ${job.kind}/${job.name}...\n`);
  // The first SIGINT or SIGTERM stops the dump cleanly (tools stopped, partial files removed, recorded);
  // both handlers go at once, so a second signal of either kind meets Node's default and ends the process.
  const controller = new AbortController();
  const stopHandling = () => {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
  };
  const interrupt = (signal: NodeJS.Signals) => {
    stopHandling();
    output.err.write(`${signal}: interrupting the dump (a second signal ends pgbackman at once)\n`);
    controller.abort(signal);
  };
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);
  let result: Awaited<ReturnType<typeof runDump>>;
  try {
    result = await runDump(job, catalogue, {
      signal: controller.signal,
      logger: log,
      secretsDir,
      allowedDestinations,
    });
  } finally {
    stopHandling();
  }
  const what = `${result.settings.code} dump of ${target} on ${job.node.name}`;
  const took = `${(result.durationMs / 1000).toFixed(1)} s`;
  if (result.status === 'SUCCEEDED' || result.status === 'SUCCEEDED_PARTIAL') {
    output.out.write(
      `Backup ${result.id} ${result.status}: ${what}, ${humanBytes(result.bytes ?? 0)} in ${took}\n  ${result.dir}${result.released === true ? ' (staged there, removed once every destination held it)' : ''}\n`,
    );
    for (const c of result.copies)
      output.out.write(
        c.status === 'COPIED'
          ? `  copied to ${c.destination}: ${c.location} (${Object.keys(c.files ?? {}).length} files, ${humanBytes(c.bytes ?? 0)})\n`
          : `  NOT copied to ${c.destination}: ${c.error}\n`,
      );
    // The dump is safe in the root directory: not a failure to retry, but the missing copy is said on stderr too.
    if (result.status === 'SUCCEEDED_PARTIAL')
      output.err.write(`warning: the dump is in the root directory, but ${result.error}\n`);
    return ExitCode.Ok;
  }
  output.out.write(`Backup ${result.id} FAILED: ${what} after ${took}\n`);
  output.err.write(`error[${result.errorCode}]: ${result.error}\n`);
  // Stopped by a signal: 128 + its number, as shells and schedulers expect.
  return result.interruptedBy !== undefined ? exitCodeForSignal(result.interruptedBy) : ExitCode.Failure;
}
