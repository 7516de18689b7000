import { readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { processAlive } from '../../system/process-alive.ts';
import { type DumpLayout, pathSegment } from './layout.ts';

const OWNER = '.owner.json';

/** How often a run touches its owner mark: a killed run's recorded duration is at most this much short. */
export const HEARTBEAT_MS = 2_000;
const heartbeats = new Map<string, NodeJS.Timeout>();

/**
 * Marks a partial directory with the host and process writing it, so a later run can tell it is debris,
 * and touches the mark every HEARTBEAT_MS while it is there: its mtime is when the writer was last alive.
 */
export async function markOwner(partial: string): Promise<void> {
  const mark = join(partial, OWNER);
  await writeFile(mark, JSON.stringify({ host: hostname(), pid: process.pid }), { mode: 0o600 });
  stopHeartbeat(partial);
  const timer = setInterval(() => {
    const now = new Date();
    // Gone (unmarked, renamed into place or removed): nothing left to keep alive.
    utimes(mark, now, now).catch(() => stopHeartbeat(partial));
  }, HEARTBEAT_MS);
  timer.unref(); // never what keeps a process running
  heartbeats.set(partial, timer);
}

export async function unmarkOwner(partial: string): Promise<void> {
  stopHeartbeat(partial);
  await rm(join(partial, OWNER), { force: true });
}

function stopHeartbeat(partial: string): void {
  clearInterval(heartbeats.get(partial));
  heartbeats.delete(partial);
}

/** When the writer of a partial directory was last known alive: its owner mark's mtime, else the directory's. */
export async function lastAlive(partial: string): Promise<Date | undefined> {
  const mark = await stat(join(partial, OWNER)).catch(() => stat(partial).catch(() => undefined));
  return mark?.mtime;
}

/**
 * Empties the partial directories beside `current` that belong to the same definition name and whose
 * writer, on this host, is gone, before this run's dump needs the space. Their owner mark stays: it says
 * when the writer was last alive, for the recovery that records the run and then removes the directory.
 * A directory without an owner mark, or owned by a live process or another host, is left alone.
 * Returns the paths emptied.
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
    for (const file of await readdir(path))
      if (file !== OWNER) await rm(join(path, file), { recursive: true, force: true });
    removed.push(path);
  }
  return removed;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
