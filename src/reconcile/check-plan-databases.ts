import type { Queryable } from '../catalogue/catalogue-db.ts';
import { listObjects } from '../catalogue/list-objects.ts';
import { PgbackmanError } from '../errors.ts';
import type { SpecOf } from '../manifest/kinds.ts';
import type { SavedPlan } from '../plan/saved-plan.ts';
import {
  type DiscoveryNode,
  type DiscoveryOptions,
  discoverDatabases,
} from '../policy/discover-databases.ts';
import { databaseDrift } from '../policy/policy-databases.ts';

/**
 * Before a saved plan is applied: are the databases its policies selected on each node still those it was
 * made with? A plan made with other databases would apply definitions the policies no longer ask for (one
 * for a database since dropped, none for one since created): it is refused as STALE_PLAN, naming them. A
 * node that cannot be asked now cannot be checked: its part is applied as planned, and a warning says so
 * (returned, one line each). The nodes are asked before the apply's transaction, as `apply` does.
 */
export async function checkPlanDatabases(
  db: Queryable,
  saved: SavedPlan,
  options: DiscoveryOptions = {},
): Promise<string[]> {
  const recorded = saved.policy_databases ?? [];
  if (recorded.length === 0) return [];
  const nodes = await nodesOf(
    db,
    saved,
    recorded.map((r) => r.node),
  );
  const found = await discoverDatabases(nodes, options);
  const drift = databaseDrift(recorded, found.databases);
  if (drift.length > 0)
    throw new PgbackmanError(
      'STALE_PLAN',
      `Saved plan is stale: the databases its policies select changed since it was made (${drift.join('; ')}), so it no longer holds the definitions they ask for; make a new plan`,
    );
  const missing = recorded.filter((r) => !nodes.some((n) => n.name === r.node)).map((r) => r.node);
  return [
    ...found.failures.map((f) => `node ${f.node}: ${f.error.code}: ${f.error.message}`),
    ...missing.map((node) => `node ${node}: not in the catalogue nor in the plan`),
  ].map(
    (why) =>
      `the databases the policies select could not be checked against the saved plan (${why}); its changes there are applied as planned`,
  );
}

/** The nodes as they will be once the plan is applied: the plan's own version, else the catalogue's. */
async function nodesOf(db: Queryable, saved: SavedPlan, names: readonly string[]): Promise<DiscoveryNode[]> {
  const planned = new Map<string, SpecOf<'PgSQLNode'>>();
  for (const c of saved.plan.changes)
    if (c.kind === 'PgSQLNode' && c.action !== 'delete')
      planned.set(c.name, c.after.spec as SpecOf<'PgSQLNode'>);
  const stored = await listObjects(db, 'PgSQLNode', { names: names.filter((n) => !planned.has(n)) });
  return names.flatMap((name) => {
    const spec = planned.get(name) ?? stored.find((n) => n.name === name)?.spec;
    return spec === undefined ? [] : [{ name, spec }];
  });
}
