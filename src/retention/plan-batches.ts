import type { Queryable } from '../catalogue/catalogue-db.ts';
import type { CatalogueObject } from '../catalogue/list-objects.ts';
import {
  type PackedGroup,
  packedRunsOf,
  type RunGroup,
  retentionGroups,
} from '../catalogue/run-retention.ts';
import { unpackRuns } from './packed-runs.ts';
import { checkNames, readCurrentRules } from './read-retention.ts';
import {
  compareKeys,
  emptySummary,
  groupKeyOf,
  type PlannedDump,
  type PlanSummary,
  planGroup,
} from './retention-plan.ts';

/**
 * The retention plan read a batch of groups at a time, in the plan's order, so its memory is bounded by a
 * batch rather than by the catalogue: the same decisions as planRetention over every run at once.
 */

/** Runs per batch at most, by default; a larger group is a batch of its own. */
const BATCH_RUNS = 10_000;

/** One group's plan (a definition's or snapshot's dumps). */
export interface PlannedGroup {
  readonly dumps: readonly PlannedDump[];
  /** The paths of the group's dumps on the servers `pathsOf` named. */
  readonly paths: readonly string[];
}

/**
 * A batch's groups in the plan's order, each decided as the caller asks for it: what is decided is written
 * before the next group is, so little outlives a young collection.
 */
export interface PlanBatch {
  readonly groups: Iterable<PlannedGroup>;
}

export interface BatchedPlan {
  readonly servers: readonly CatalogueObject<'BackupServer'>[];
  /** Complete once every batch was read. */
  readonly summary: PlanSummary;
  batches(): AsyncGenerator<PlanBatch>;
}

/**
 * Reads the rules and the groups (a name neither in the catalogue nor on any run throws here, before any
 * batch); `pathsOf` picks the servers whose runs' paths the caller needs.
 */
export async function planInBatches(
  q: Queryable,
  filter: { readonly server?: string; readonly names?: readonly string[] },
  now: number,
  pathsOf: (servers: readonly CatalogueObject<'BackupServer'>[]) => readonly string[],
  batchRuns = BATCH_RUNS,
): Promise<BatchedPlan> {
  let counted: Promise<RunGroup[]> | undefined;
  const { current, servers } = await readCurrentRules(q, filter, () => {
    // Counted on the server while the rules are resolved here (one statement at a time on the connection).
    counted = retentionGroups(q, filter);
    counted.catch(() => undefined);
  });
  const groups = await (counted ?? retentionGroups(q, filter));
  checkNames(filter.names, current, (name) =>
    groups.some((g) => g.definition === name || g.snapshot === name),
  );
  const keyed = groups
    .map((g) => ({
      key: groupKeyOf(g),
      ...g,
    }))
    .sort((a, b) => compareKeys(a.key, b.key));
  const paths = pathsOf(servers);
  const summary = emptySummary();
  // Whole groups, up to BATCH_RUNS runs each (a larger group alone).
  const cuts: (typeof keyed)[] = [];
  for (let from = 0; from < keyed.length; ) {
    let to = from;
    for (let runs = 0; to < keyed.length && (to === from || runs + (keyed[to]?.runs ?? 0) <= batchRuns); to++)
      runs += keyed[to]?.runs ?? 0;
    cuts.push(keyed.slice(from, to));
    from = to;
  }
  const names = (list: typeof keyed) => ({
    definitions: list.flatMap((g) => (g.definition === null ? [] : [g.definition])),
    snapshots: list.flatMap((g) => (g.snapshot === null ? [] : [g.snapshot])),
  });
  const read = (batch: typeof keyed) => {
    const runs = packedRunsOf(
      q,
      filter.server,
      names(batch),
      paths,
      names(batch.filter((g) => !current.has(g.key))),
    );
    // Awaited in its turn; until then a failure must not count as unhandled.
    runs.catch(() => undefined);
    return runs;
  };
  async function* batches(): AsyncGenerator<PlanBatch> {
    let pending = cuts[0] === undefined ? undefined : read(cuts[0]);
    for (const [i, batch] of cuts.entries()) {
      const rows = await (pending as Promise<PackedGroup[]>);
      // The server reads the next batch while this one is decided and written.
      const following = cuts[i + 1];
      pending = following === undefined ? undefined : read(following);
      const byKey = new Map<string, PackedGroup | undefined>(batch.map((g) => [g.key, undefined]));
      for (const row of rows) byKey.set(groupKeyOf(row), row);
      yield { groups: planned(byKey) };
    }
  }
  function* planned(byKey: Map<string, PackedGroup | undefined>): Generator<PlannedGroup> {
    for (const [key, row] of byKey) {
      // Deleted since the groups were counted: nothing left to plan.
      if (row === undefined) continue;
      yield {
        dumps: planGroup(key, unpackRuns(row), (k) => current.get(k), now, summary),
        paths: row.paths ?? [],
      };
    }
  }
  return { servers, summary, batches };
}
