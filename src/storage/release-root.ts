import { existsSync } from 'node:fs';
import { dirname, relative, sep } from 'node:path';
import {
  keptWithCopies,
  markRootReleased,
  markRootReleasing,
  releasingRoots,
} from '../catalogue/backup-runs.ts';
import type { Queryable } from '../catalogue/catalogue-db.ts';
import type { SpecOf } from '../manifest/kinds.ts';
import { removeDumpDir } from '../retention/remove-dump.ts';
import { type AllowedDestination, isAllowed } from './allowed-destinations.ts';
import { copyLocation, type StorageDestination, stagesInRoot, storageOfRun } from './run-destinations.ts';

/** At most this many unfinished releases are finished in one copy pass. */
const PER_PASS = 50;

/**
 * A dump whose storage starts with a bucket was only staged in the root directory: once every destination
 * it is owed to holds it (the run is SUCCEEDED) and the primary has a recorded copy, its folder in the root is
 * removed. Marked RELEASING first, so a process that dies in the middle leaves it for `finishReleases`; the
 * folder is removed only where retention would remove it (under the root, named after the run). True when
 * released now; false when its storage keeps it in the root, or it is not (yet) to be released.
 */
export async function releaseRoot(
  q: Queryable,
  run: { readonly id: string; readonly dumpPath: string },
  storage: readonly StorageDestination[],
  root: string,
  allowed: readonly AllowedDestination[],
): Promise<boolean> {
  const primary = storage[0];
  if (primary === undefined || !stagesInRoot(storage)) return false;
  // A primary the operator does not allow (a manifest's choice alone) never takes a dump out of the root.
  if (!isAllowed(allowed, primary as Parameters<typeof isAllowed>[1])) return false;
  const folder = relative(root, dirname(run.dumpPath)).split(sep).join('/');
  const at = { name: primary.name, kind: 's3', location: copyLocation(primary, folder) } as const;
  if (!(await markRootReleasing(q, run.id, at))) return false;
  await removeStaged(run, root);
  await markRootReleased(q, run.id);
  return true;
}

/** Removes a staged folder as retention would (removeDumpDir's checks); one already gone, parents and all, is done. */
async function removeStaged(run: { readonly id: string; readonly dumpPath: string }, root: string) {
  if (!existsSync(dirname(run.dumpPath))) return;
  await removeDumpDir(run, root);
}

/**
 * Finishes what a process that died while releasing a dump's folder left: how many it finished. A folder
 * that may not be removed (removeDumpDir refuses it) stays RELEASING, and is not in the way of the others.
 */
export async function finishReleases(q: Queryable, server: string, root: string): Promise<number> {
  let finished = 0;
  for (const run of await releasingRoots(q, server, PER_PASS)) {
    try {
      await removeStaged(run, root);
    } catch {
      continue;
    }
    await markRootReleased(q, run.id);
    finished++;
  }
  return finished;
}

/**
 * The copy pass's share: finishes releases a process left half done, then releases each dump of `server`
 * that stages in the root and is now held everywhere (its run's own release failed, or it became SUCCEEDED
 * in this pass). How many folders were released.
 */
export async function releasePass(
  q: Queryable,
  server: { readonly name: string; readonly spec: SpecOf<'BackupServer'> },
  root: string,
  allowed: readonly AllowedDestination[],
  /** The definitions and snapshots whose own storage stages, when the server's does not. */
  only?: readonly string[],
): Promise<number> {
  let released = await finishReleases(q, server.name, root);
  for (const run of await keptWithCopies(q, server.name, PER_PASS, only))
    try {
      if (await releaseRoot(q, run, await storageOfRun(q, run, server.spec), root, allowed)) released++;
    } catch {
      // Left RELEASING when its folder may not be removed: finishReleases tries it again next pass.
    }
  return released;
}
