import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { hashFile } from './hashed-file.ts';
import { type DumpLayout, dumpLayout, pathSegment } from './layout.ts';
import { DUMP_FILE_NAMES } from './pg-dump-args.ts';
import { failedEnd, type RunEnd } from './record-run.ts';
import { processAlive } from './run-lock.ts';

export const INTERRUPTED =
  'interrupted: the process taking this dump stopped before it finished (found by a later run)';

const OWNER = '.owner.json';

/** What locates a run's files: the fields its directory name is made of. */
export interface RunPlace {
  readonly id: string;
  readonly node: string;
  readonly database: string | null;
  readonly code: string;
  readonly name: string;
  readonly startedAt: Date;
}

/**
 * The end to record for a run whose process stopped before recording it. A run that got as far as renaming
 * its directory into place finished its dump: its files are hashed now and it is recorded SUCCEEDED. Any
 * other run is FAILED, and its partial directory is removed.
 */
export async function recoverRun(root: string, run: RunPlace): Promise<RunEnd> {
  const layout = dumpLayout(
    root,
    run.node,
    run.database ?? undefined,
    run.code,
    run.name,
    run.startedAt,
    run.id,
  );
  const finished = await stat(layout.dir).catch(() => undefined);
  if (finished?.isDirectory()) {
    const names = await readdir(layout.dir);
    const dumpFile = DUMP_FILE_NAMES.find((f) => names.includes(f));
    if (dumpFile !== undefined) {
      const sha256: Record<string, unknown> = {};
      let bytes = 0;
      const dump = join(layout.dir, dumpFile);
      if ((await stat(dump)).isDirectory()) {
        const files: Record<string, string> = {};
        for (const f of (await readdir(dump)).sort()) {
          const h = await hashFile(join(dump, f));
          files[f] = h.sha256;
          bytes += h.bytes;
        }
        sha256[dumpFile] = files;
      } else {
        const h = await hashFile(dump);
        sha256[dumpFile] = h.sha256;
        bytes = h.bytes;
      }
      for (const f of ['roles.sql', 'config.sql'].filter((x) => names.includes(x)))
        sha256[f] = (await hashFile(join(layout.dir, f))).sha256;
      return {
        ...failedEnd(finished.mtime, ''),
        status: 'SUCCEEDED',
        error: null,
        dumpBytes: bytes,
        dumpPath: dump,
        logPath: names.includes('dump.log') ? join(layout.dir, 'dump.log') : null,
        rolesPath: names.includes('roles.sql') ? join(layout.dir, 'roles.sql') : null,
        configPath: names.includes('config.sql') ? join(layout.dir, 'config.sql') : null,
        sha256,
      };
    }
  }
  await rm(layout.partial, { recursive: true, force: true });
  return failedEnd(new Date(), INTERRUPTED);
}

/** Marks a partial directory with the host and process writing it, so a later run can tell it is debris. */
export async function markOwner(partial: string): Promise<void> {
  await writeFile(join(partial, OWNER), JSON.stringify({ host: hostname(), pid: process.pid }), {
    mode: 0o600,
  });
}

export async function unmarkOwner(partial: string): Promise<void> {
  await rm(join(partial, OWNER), { force: true });
}

/**
 * Removes the partial directories beside `current` that belong to the same definition name and whose
 * writer, on this host, is gone (runs whose start only reached the spool). A directory without an owner
 * mark, or owned by a live process or another host, is left alone. Returns the paths removed.
 */
export async function removeDeadPartials(current: DumpLayout, name: string): Promise<string[]> {
  const parent = dirname(current.partial);
  const ours = new RegExp(`^\\d{8}T\\d{6}Z-[A-Z]+-${escapeRegExp(pathSegment(name))}-[0-9a-f]{8}\\.partial$`);
  const removed: string[] = [];
  for (const entry of await readdir(parent).catch(() => [] as string[])) {
    const path = join(parent, entry);
    if (!ours.test(entry) || path === current.partial) continue;
    const owner = await readFile(join(path, OWNER), 'utf8')
      .then((t) => JSON.parse(t) as { host?: string; pid?: number })
      .catch(() => undefined);
    if (owner?.host !== hostname() || typeof owner.pid !== 'number' || processAlive(owner.pid)) continue;
    await rm(path, { recursive: true, force: true });
    removed.push(path);
  }
  return removed;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
