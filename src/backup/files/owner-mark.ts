import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { processAlive } from '../../system/process-alive.ts';
import { type DumpLayout, pathSegment } from './layout.ts';

const OWNER = '.owner.json';

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
