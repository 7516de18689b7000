import type { RetentionRun } from '../catalogue/run-retention.ts';
import type { PlannedDump, RetentionPlan } from './retention-plan.ts';

/**
 * `pgbackman purge`: every dump of a removed definition or snapshot goes, redundancy or not, except pinned
 * and running ones. Pure, shaped as a retention plan so the same sweep carries it out.
 */
export function purgePlan(runs: readonly RetentionRun[], by: string): RetentionPlan {
  let [del, deleteBytes, keep, deleting] = [0, 0, 0, 0];
  const dumps = [...runs]
    .sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : 1))
    .map((r): PlannedDump => {
      const reasons = r.pinned ? ['pinned'] : r.status === 'RUNNING' ? ['running'] : [`purged by ${by}`];
      const action = r.pinned || r.status === 'RUNNING' ? 'keep' : 'delete';
      if (r.deleting) deleting++;
      if (action === 'delete') {
        del++;
        deleteBytes += r.bytes ?? 0;
      } else keep++;
      return {
        id: r.id,
        server: r.server,
        definition: r.definition,
        snapshot: r.snapshot,
        finishedAt: new Date(r.at).toISOString(),
        status: r.status,
        bytes: r.bytes,
        pinned: r.pinned,
        action,
        reasons,
      };
    });
  return { dumps, summary: { delete: del, deleteBytes, keep, deleting } };
}
