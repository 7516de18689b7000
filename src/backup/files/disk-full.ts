import { stat, statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { isPgbackmanError, PgbackmanError } from '../../errors.ts';
import { isNoSpace } from '../../sqlstate.ts';

/**
 * A write that failed for lack of space, as the error to report: DISK_FULL, naming the file system (its mount
 * point) and what was being written. Any other error is returned as it is.
 */
export async function asDiskFull(err: unknown, writing: string): Promise<unknown> {
  if (!isNoSpace(err) || isPgbackmanError(err, 'DISK_FULL')) return err;
  const mount = await mountPointOf(writing).catch(() => undefined);
  const fs = mount === undefined ? undefined : await statfs(mount).catch(() => undefined);
  const where = mount === undefined ? '' : ` mounted at ${mount}`;
  const size = fs === undefined ? '' : ` (${mib(fs.blocks * fs.bsize)})`;
  const why = (err as { message?: string }).message?.split('\n').at(-1) ?? String(err);
  return new PgbackmanError(
    'DISK_FULL',
    `no space left on the file system${where}${size} while writing ${writing}; the dump was abandoned and its partial files removed (${why})`,
    { cause: err },
  );
}

/** The highest existing directory above `path` on the same device: where its file system is mounted. */
async function mountPointOf(path: string): Promise<string> {
  let dir = path;
  let st = await stat(dir).catch(() => undefined);
  while (st === undefined && dirname(dir) !== dir) {
    dir = dirname(dir);
    st = await stat(dir).catch(() => undefined);
  }
  if (st === undefined) return dir;
  for (;;) {
    const parent = dirname(dir);
    if (parent === dir) return dir;
    const up = await stat(parent);
    if (up.dev !== st.dev) return dir;
    dir = parent;
  }
}

function mib(bytes: number): string {
  return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}
