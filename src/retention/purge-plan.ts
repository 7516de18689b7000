import type { RetentionRun } from '../catalogue/run-retention.ts';
import { emptySummary, plannedDump, type RetentionPlan } from './retention-plan.ts';

/**
 * `pgbackman purge`: every dump of a removed definition or snapshot goes, redundancy or not, except pinned
 * and running ones. Pure, shaped as a retention plan so the same sweep carries it out.
 */
export function purgePlan(runs: readonly RetentionRun[], by: string): RetentionPlan {
  const summary = emptySummary();
  const dumps = [...runs]
    .sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : 1))
    .map((r) => {
      const kept = r.pinned ? 'pinned' : r.status === 'RUNNING' ? 'running' : undefined;
      return plannedDump(r, kept === undefined ? 'delete' : 'keep', [kept ?? `purged by ${by}`], summary);
    });
  return { dumps, summary };
}
