import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { PgbackmanError } from '../../errors.ts';
import type { DumpJob } from '../run-dump.ts';

export const DEFAULT_JOB_CACHE = '.pgbackman/cache';

/** PGBACKMAN_CACHE, else ./.pgbackman/cache (beside the embedded catalogue's default). */
export function jobCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.PGBACKMAN_CACHE || DEFAULT_JOB_CACHE;
}

/** What a run read from the catalogue, kept so the same dump can be taken while the catalogue is down. */
export interface CachedJob {
  readonly version: 1;
  /** The catalogue it came from (password removed): a cache is never used for another catalogue. */
  readonly catalogue: string;
  readonly cachedAt: string;
  readonly job: DumpJob;
}

// One directory per catalogue, so two catalogues' definitions of the same name never meet.
function cacheFile(dir: string, catalogue: string, kind: DumpJob['kind'], name: string): string {
  const id = createHash('sha256').update(catalogueIdentity(catalogue)).digest('hex').slice(0, 16);
  return join(dir, id, kind, `${encodeURIComponent(name)}.json`);
}

function catalogueIdentity(location: string): string {
  return /^postgres(ql)?:\/\//.test(location) ? location : resolve(location);
}

/** Writes the job atomically (0600: it names the node and where its password comes from, never the password). */
export async function cacheJob(
  dir: string,
  catalogue: string,
  job: DumpJob,
  now = new Date(),
): Promise<void> {
  const file = cacheFile(dir, catalogue, job.kind, job.name);
  await mkdir(join(file, '..'), { recursive: true, mode: 0o700 });
  const entry: CachedJob = { version: 1, catalogue, cachedAt: now.toISOString(), job };
  await writeFile(`${file}.tmp`, `${JSON.stringify(entry, null, 2)}\n`, { mode: 0o600 });
  await rename(`${file}.tmp`, file);
}

/** The cached job, or an error that says why there is none and what would have made one. */
export async function readCachedJob(
  dir: string,
  catalogue: string,
  kind: DumpJob['kind'],
  name: string,
): Promise<CachedJob> {
  const file = cacheFile(dir, catalogue, kind, name);
  let text: string;
  try {
    await requirePrivate(file);
    await requirePrivate(dirname(file));
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (err instanceof PgbackmanError) throw err;
    throw new PgbackmanError(
      'NOT_FOUND',
      `no cached copy of ${kind}/${name} for this catalogue in ${dir} (a run caches what it reads from the catalogue; run it once while the catalogue is up)`,
    );
  }
  let entry: CachedJob;
  try {
    entry = JSON.parse(text) as CachedJob;
  } catch {
    throw new PgbackmanError('IO', `${file}: the cached copy of ${kind}/${name} is not valid JSON`);
  }
  if (entry.version !== 1 || entry.job?.kind !== kind || entry.job.name !== name)
    throw new PgbackmanError('IO', `${file}: not a cached copy of ${kind}/${name} this pgbackman can read`);
  return entry;
}

/** The cache names the binaries a run starts and where it writes: only its owner may have written it. */
export async function requirePrivate(path: string): Promise<void> {
  const s = await stat(path);
  const uid = process.getuid?.();
  if ((uid !== undefined && s.uid !== uid) || (s.mode & 0o022) !== 0)
    throw new PgbackmanError(
      'IO',
      `${path}: refusing the cached copy: it must belong to this user and not be writable by others (mode ${(s.mode & 0o777).toString(8)}, owner uid ${s.uid})`,
    );
}
