import { existsSync } from 'node:fs';
import type { Queryable } from '../catalogue/catalogue-db.ts';
import { deletionsOf, markDeleted, markDeleting } from '../catalogue/retention-steps.ts';
import { messageOf } from '../errors.ts';
import type { CopyRemoval } from '../storage/remove-copies.ts';
import { dumpDirOf, removeDumpDir } from './remove-dump.ts';
import type { PlannedDump } from './retention-plan.ts';

export interface SweepOutcome {
  readonly deleted: PlannedDump[];
  /**
   * Deletions refused (an unsafe path, a root not here: `blocked`, a person must look) or overtaken (pinned or
   * deleted since the plan: not blocked): those dumps are kept.
   */
  readonly skipped: { readonly dump: PlannedDump; readonly why: string; readonly blocked: boolean }[];
  /** Deleted dumps whose copy at a further destination could not be removed yet (the agent tries again). */
  readonly copiesLeft: { readonly dump: PlannedDump; readonly destination: string; readonly why: string }[];
}

/** Removes a deleted dump's copies at the server's further destinations (storage/remove-copies). */
export type RemoveCopies = (
  run: {
    readonly id: string;
    readonly dumpPath: string | null;
    readonly definition: string | null;
    readonly snapshot: string | null;
  },
  server: string,
) => Promise<CopyRemoval>;

/** Runs whose paths are read in one statement. */
const CHUNK = 100;

/**
 * Carries out a plan's deletions, each as recorded steps: DELETING, the files removed, DELETED, then its copies
 * at further destinations (`removeCopies`). A crash
 * between them leaves DELETING, which the next plan finishes; a catalogue error stops the sweep there.
 * Each run's path is read again just before it goes, so a plan read a batch at a time holds no paths.
 * `roots`: the root directory of each server whose dumps this host may delete.
 */
export async function sweepRetention(
  q: Queryable,
  dumps: Iterable<PlannedDump>,
  roots: ReadonlyMap<string, string>,
  removeCopies?: RemoveCopies,
): Promise<SweepOutcome> {
  const outcome: SweepOutcome = { deleted: [], skipped: [], copiesLeft: [] };
  let chunk: { dump: PlannedDump; root: string }[] = [];
  for (const dump of dumps) {
    if (dump.action !== 'delete') continue;
    const root = roots.get(dump.server);
    if (root === undefined || !existsSync(root)) {
      const why =
        root === undefined
          ? `taken by BackupServer/${dump.server}: only its own host sweeps it`
          : `the root directory ${root} does not exist here: sweep on the backup server's host`;
      outcome.skipped.push({ dump, why, blocked: root !== undefined });
      continue;
    }
    chunk.push({ dump, root });
    if (chunk.length === CHUNK) {
      await sweepChunk(q, chunk, outcome, removeCopies);
      chunk = [];
    }
  }
  await sweepChunk(q, chunk, outcome, removeCopies);
  return outcome;
}

async function sweepChunk(
  q: Queryable,
  chunk: readonly { dump: PlannedDump; root: string }[],
  outcome: SweepOutcome,
  removeCopies: RemoveCopies | undefined,
): Promise<void> {
  if (chunk.length === 0) return;
  const runs = await deletionsOf(
    q,
    chunk.map((c) => c.dump.id),
  );
  const safe: {
    dump: PlannedDump;
    root: string;
    target: { id: string; dumpPath: string | null };
    released: boolean;
  }[] = [];
  for (const { dump, root } of chunk) {
    const run = runs.get(dump.id);
    // Finished by another sweep since the plan was read: nothing left to do here, but said.
    if (run === undefined || run.deletion === 'DELETED') {
      outcome.skipped.push({ dump, why: 'deleted by another sweep since the plan was made', blocked: false });
      continue;
    }
    const target = { id: dump.id, dumpPath: run.dumpPath };
    // Checked before anything is recorded: a path that may not be deleted leaves the dump as it is. A dump
    // only staged in the root, released there, has nothing left in it: only its copies are removed.
    try {
      if (!run.released) dumpDirOf(target, root);
      safe.push({ dump, root, target, released: run.released });
    } catch (err) {
      outcome.skipped.push({ dump, why: messageOf(err), blocked: true });
    }
  }
  // One dump's steps at a time: a catalogue gone mid-sweep stops it before the next dump is touched.
  for (const { dump, root, target, released } of safe) {
    const resumed = runs.get(dump.id)?.deletion === 'DELETING';
    if (!resumed && (await markDeleting(q, [{ id: dump.id, reason: dump.reasons.join('; ') }])).size === 0) {
      outcome.skipped.push({
        dump,
        why: 'pinned, running or being deleted since the plan was made',
        blocked: false,
      });
      continue;
    }
    if (!released) await removeDumpDir(target, root);
    await markDeleted(q, [dump.id]);
    outcome.deleted.push(dump);
    // The copies go after the dump itself: one left behind is recorded and removed by a later pass.
    const copies = await removeCopies?.(
      { ...target, definition: dump.definition, snapshot: dump.snapshot },
      dump.server,
    );
    for (const l of copies?.left ?? []) outcome.copiesLeft.push({ dump, ...l });
  }
}
