import { existsSync, lstatSync, realpathSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { basename, dirname, isAbsolute, relative, sep } from 'node:path';
import { PgbackmanError } from '../errors.ts';

/**
 * The directory a dump's files live in, or why it may not be deleted: it must lie under the server's root
 * once symlinks are resolved, be a real directory (not a link), and carry the run's id in its name, as
 * every dump directory pgbackman writes does. A failed run has no files: null.
 */
export function dumpDirOf(run: { id: string; dumpPath: string | null }, root: string): string | null {
  if (run.dumpPath === null) return null;
  const dir = dirname(run.dumpPath);
  const refuse = (why: string): never => {
    throw new PgbackmanError('UNSAFE', `not deleting ${dir} (backup ${run.id}): ${why}`);
  };
  if (!isAbsolute(dir)) refuse('the catalogue records a relative path');
  if (!basename(dir).endsWith(`-${run.id.slice(0, 8)}`))
    refuse('its name does not carry the run id, so it is not a dump directory pgbackman wrote');
  let realRoot: string;
  try {
    realRoot = realpathSync(root);
  } catch {
    return refuse(`the root directory ${root} does not exist here: sweep on the backup server's host`);
  }
  let st: ReturnType<typeof lstatSync>;
  try {
    st = lstatSync(dir);
  } catch {
    // Gone with its database directory too: more likely a volume not mounted than a dump deleted.
    if (!existsSync(dirname(dir)))
      refuse(
        `neither it nor ${dirname(dir)} exists: is the volume under ${root} mounted? (if the files are really gone, create that directory and sweep again)`,
      );
    return dir; // already gone: nothing to check, nothing to remove
  }
  if (st.isSymbolicLink()) refuse('it is a symbolic link');
  if (!st.isDirectory()) refuse('it is not a directory');
  const inside = relative(realRoot, realpathSync(dir));
  if (inside === '' || inside.startsWith(`..${sep}`) || inside === '..' || isAbsolute(inside))
    refuse(`it resolves outside the server's root directory ${realRoot}`);
  return dir;
}

/** Removes a dump's directory after `dumpDirOf` allowed it; a directory already gone is done. */
export async function removeDumpDir(
  run: { id: string; dumpPath: string | null },
  root: string,
): Promise<void> {
  const dir = dumpDirOf(run, root);
  if (dir !== null) await rm(dir, { recursive: true, force: true });
}
