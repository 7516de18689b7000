import { type DatabaseSelector, selectsDatabase } from './database-selector.ts';
import { type NodeInput, type PolicyInput, selectedNodes } from './expand-policies.ts';

/**
 * The live databases of one node that its policies select, as a plan saw them: a saved plan keeps them, so
 * that applying it later can tell whether the policies would still generate what it holds.
 */
export interface PolicyDatabases {
  readonly node: string;
  /** The `databases` of every policy that selects the node (an absent one selects every database). */
  readonly selectors: readonly (DatabaseSelector | null)[];
  /** Sorted. */
  readonly databases: readonly string[];
}

/** For each node a policy selects and that was reached: the databases those policies select. Pure. */
export function policyDatabases(
  policies: readonly PolicyInput[],
  nodes: readonly NodeInput[],
  live: ReadonlyMap<string, readonly string[]>,
): PolicyDatabases[] {
  const selectors = new Map<string, (DatabaseSelector | null)[]>();
  for (const p of policies)
    for (const node of selectedNodes(p, nodes))
      selectors.set(node, [...(selectors.get(node) ?? []), p.spec.databases ?? null]);
  return [...selectors.entries()]
    .filter(([node]) => live.has(node))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([node, s]) => ({ node, selectors: s, databases: selected(s, live.get(node) ?? []) }));
}

/**
 * How the databases the policies select changed on each node since `recorded` was taken, in words
 * (`node n1: "shop_eu" created, "old" dropped`); empty when none did. Nodes not in `live` (not reached
 * now) are not compared. Pure.
 */
export function databaseDrift(
  recorded: readonly PolicyDatabases[],
  live: ReadonlyMap<string, readonly string[]>,
): string[] {
  const drift: string[] = [];
  for (const r of recorded) {
    const now = live.get(r.node);
    if (now === undefined) continue;
    const then = new Set(r.databases);
    const current = new Set(selected(r.selectors, now));
    const created = [...current].filter((d) => !then.has(d)).map((d) => `${JSON.stringify(d)} created`);
    const dropped = [...then].filter((d) => !current.has(d)).map((d) => `${JSON.stringify(d)} dropped`);
    if (created.length + dropped.length > 0)
      drift.push(`node ${r.node}: ${[...created, ...dropped].join(', ')}`);
  }
  return drift;
}

function selected(selectors: readonly (DatabaseSelector | null)[], live: readonly string[]): string[] {
  return live.filter((d) => selectors.some((s) => selectsDatabase(s ?? undefined, d))).sort();
}
