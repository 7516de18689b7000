import type { Queryable } from '../catalogue/catalogue-db.ts';
import { markDeleted, markDeleting, type RetentionRun } from '../catalogue/run-retention.ts';
import { messageOf } from '../errors.ts';
import { dumpDirOf, removeDumpDir } from './remove-dump.ts';
import type { PlannedDump, RetentionPlan } from './retention-plan.ts';

export interface SweepOutcome {
  readonly deleted: readonly PlannedDump[];
  /** Deletions refused (an unsafe path) or overtaken (pinned since the plan): those dumps are kept. */
  readonly skipped: readonly { readonly dump: PlannedDump; readonly why: string }[];
}

/**
 * Carries out a plan's deletions, each as recorded steps: DELETING, the files removed, DELETED. A crash
 * between them leaves DELETING, which the next plan finishes; a catalogue error stops the sweep there.
 * `roots`: the root directory of each server whose dumps this host may delete.
 */
export async function sweepRetention(
  q: Queryable,
  plan: RetentionPlan,
  runs: readonly RetentionRun[],
  roots: ReadonlyMap<string, string>,
): Promise<SweepOutcome> {
  const byId = new Map(runs.map((r) => [r.id, r]));
  const deleted: PlannedDump[] = [];
  const skipped: { dump: PlannedDump; why: string }[] = [];
  for (const dump of plan.dumps) {
    const run = byId.get(dump.id);
    if (dump.action !== 'delete' || run === undefined) continue;
    const root = roots.get(run.server);
    if (root === undefined) {
      skipped.push({ dump, why: `taken by BackupServer/${run.server}: only its own host sweeps it` });
      continue;
    }
    // Checked before anything is recorded: a path that may not be deleted leaves the dump as it is.
    try {
      dumpDirOf(run, root);
    } catch (err) {
      skipped.push({ dump, why: messageOf(err) });
      continue;
    }
    if (!run.deleting && !(await markDeleting(q, run.id, dump.reasons.join('; ')))) {
      skipped.push({ dump, why: 'pinned, running or being deleted since the plan was made' });
      continue;
    }
    await removeDumpDir(run, root);
    await markDeleted(q, run.id);
    deleted.push(dump);
  }
  return { deleted, skipped };
}
