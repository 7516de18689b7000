import { lstat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type AllowedDestination, isAllowed } from './allowed-destinations.ts';
import type { StorageDestination } from './run-destinations.ts';

/** A write's temporary file younger than this may still be written: it is left alone. */
export const DEBRIS_AGE_MS = 60 * 60 * 1000;

/** What a local destination's write leaves when its process is killed: `.<12 hex>.partial`. */
const TEMPORARY = /^\.[0-9a-f]{12}\.partial$/;

/**
 * Removes the temporary files writes left in local destinations when their process was killed (SIGKILL,
 * a crash) more than an hour ago; complete objects are never touched. Directories are walked as they are
 * (a symbolic link is not followed). Returns the paths removed. A bucket's incomplete multipart uploads are
 * the bucket's lifecycle rule's to abort (AbortIncompleteMultipartUpload).
 */
export async function sweepDebris(
  destinations: readonly StorageDestination[],
  allowed: readonly AllowedDestination[],
  now = Date.now(),
): Promise<string[]> {
  const removed: string[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    if (depth > 8) return;
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const path = join(dir, e.name);
      if (e.isDirectory()) await walk(path, depth + 1);
      else if (e.isFile() && TEMPORARY.test(e.name)) {
        const st = await lstat(path).catch(() => undefined);
        if (st !== undefined && now - st.mtimeMs > DEBRIS_AGE_MS) {
          await rm(path, { force: true });
          removed.push(path);
        }
      }
    }
  };
  for (const d of destinations)
    if (d.local !== undefined && isAllowed(allowed, d as Parameters<typeof isAllowed>[1]))
      await walk(d.local.path, 0);
  return removed;
}
