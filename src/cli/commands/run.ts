import { cacheJob, jobCacheDir, readCachedJob } from '../../backup/record/job-cache.ts';
import { type DumpJob, runDump } from '../../backup/run-dump.ts';
import type { CatalogueDb, Queryable } from '../../catalogue/catalogue-db.ts';
import { listObjects } from '../../catalogue/list-objects.ts';
import { requireCurrentSchema } from '../../catalogue/migrate.ts';
import { openCatalogue, safeLocation } from '../../catalogue/open-catalogue.ts';
import { offlineCatalogue, unreachableReason } from '../../catalogue/unreachable.ts';
import { PgbackmanError } from '../../errors.ts';
import type { BackupServer, PgSQLNode } from '../../manifest/generated/manifest-types.ts';
import { ExitCode } from '../exit-codes.ts';
import { humanBytes } from '../human-bytes.ts';
import type { Output } from '../output.ts';

type JobKind = DumpJob['kind'];

/**
 * `pgbackman run NAME`: one dump now, in the foreground, recorded in the catalogue like any other.
 * When the catalogue cannot be reached, the dump is taken from the copy the last run cached, and its
 * record waits in the spool.
 */
export async function runRun(
  name: string,
  location: string,
  flags: { snapshot: boolean },
  output: Output,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ExitCode> {
  const kind: JobKind = flags.snapshot ? 'SnapshotDefinition' : 'BackupDefinition';
  const cacheDir = jobCacheDir(env);
  const catalogueId = safeLocation(location);
  let db: CatalogueDb | undefined;
  let job: DumpJob;
  let catalogue: Queryable;
  let caching: Promise<void> = Promise.resolve();
  try {
    db = await openCatalogue(location, 'run');
    await requireCurrentSchema(db);
    job = await readJob(db, kind, name);
    catalogue = db;
    // Written while the dump runs; a failure to cache costs a warning, never the dump.
    caching = cacheJob(cacheDir, catalogueId, job).catch((err: Error) => {
      output.err.write(`warning: could not cache ${kind}/${name} in ${cacheDir}: ${err.message}\n`);
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
    output.err.write(
      `warning: ${reason}\n  running ${kind}/${name} as the catalogue had it at ${cached.cachedAt} (cached in ${cacheDir})\n`,
    );
    job = cached.job;
    catalogue = offlineCatalogue(reason);
  }
  try {
    return await takeDump(job, catalogue, output);
  } finally {
    await caching;
    await db?.close();
  }
}

async function readJob(db: CatalogueDb, kind: JobKind, name: string): Promise<DumpJob> {
  const [definition] = await listObjects(db, kind, { name });
  if (definition === undefined) {
    const hint = kind === 'BackupDefinition' ? ' (for a snapshot, add --snapshot)' : '';
    const list = kind === 'BackupDefinition' ? 'definitions' : 'snapshots';
    throw new PgbackmanError(
      'NOT_FOUND',
      `${kind}/${name} is not in the catalogue${hint}; see \`pgbackman get ${list}\``,
    );
  }
  const spec = definition.spec as DumpJob['spec'];
  const [[node], [server]] = await Promise.all([
    listObjects(db, 'PgSQLNode', { name: spec.node }),
    listObjects(db, 'BackupServer', { name: spec.server }),
  ]);
  if (node === undefined || server === undefined)
    throw new PgbackmanError(
      'NOT_FOUND',
      `${kind}/${name} refers to a node or server the catalogue does not have`,
    );
  return {
    kind,
    name,
    spec,
    node: { name: node.name, spec: node.spec as PgSQLNode['spec'] },
    server: { name: server.name, spec: server.spec as BackupServer['spec'] },
  };
}

async function takeDump(job: DumpJob, catalogue: Queryable, output: Output): Promise<ExitCode> {
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
    result = await runDump(job, catalogue, { signal: controller.signal });
  } finally {
    stopHandling();
  }
  const of = `${job.kind}/${job.name}`;
  if (result.recovered > 0)
    output.err.write(
      `note: ${result.recovered} earlier run(s) of ${of} had put their dump in place before their process stopped; hashed and recorded SUCCEEDED\n`,
    );
  if (result.interrupted > 0)
    output.err.write(
      `note: ${result.interrupted} earlier run(s) of ${of} were left RUNNING by a process that stopped; recorded FAILED, their partial files removed\n`,
    );
  if (result.replayed > 0)
    output.err.write(`note: ${result.replayed} record(s) waiting in the spool reached the catalogue\n`);
  for (const f of result.setAside)
    output.err.write(
      f.kind === 'unreadable'
        ? `warning: a spooled record could not be read (${f.reason}); set aside as ${f.path}: the run it holds is not in the catalogue\n`
        : `warning: the catalogue refused a spooled record (${f.reason}); set aside as ${f.path}: the run it holds is not in the catalogue\n`,
    );
  if (result.spoolReason !== undefined)
    output.err.write(
      `note: this run's record waits in the spool and is sent by the next run that reaches the catalogue (${result.spoolReason})\n`,
    );
  const what = `${result.settings.code} dump of ${target} on ${job.node.name}`;
  const took = `${(result.durationMs / 1000).toFixed(1)} s`;
  if (result.status === 'SUCCEEDED') {
    output.out.write(
      `Backup ${result.id} SUCCEEDED: ${what}, ${humanBytes(result.bytes ?? 0)} in ${took}\n  ${result.dir}\n`,
    );
    return ExitCode.Ok;
  }
  output.out.write(`Backup ${result.id} FAILED: ${what} after ${took}\n`);
  output.err.write(`error${result.errorCode === null ? '' : `[${result.errorCode}]`}: ${result.error}\n`);
  return ExitCode.Failure;
}
