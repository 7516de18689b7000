import type { Queryable } from '../catalogue/catalogue-db.ts';
import { messageOf } from '../errors.ts';
import { coverageState, databaseCoverage } from '../policy/database-coverage.ts';
import { discoverDatabases } from '../policy/discover-databases.ts';

/** What is not covered: the live databases of this server's nodes that nothing backs up. */
export interface UncoveredCheck {
  readonly at: string;
  readonly databases: readonly { readonly node: string; readonly database: string }[];
  /** Nodes that could not be asked, and why. */
  readonly failures: readonly { readonly node: string; readonly message: string }[];
}

/**
 * Asks each node this server dumps for its live databases (as `get databases --uncovered` does) and keeps
 * those no definition or policy backs up. The catalogue is read first and let go before the nodes are asked.
 */
export async function uncoveredCheck(
  use: <T>(fn: (q: Queryable) => Promise<T>) => Promise<T>,
  server: string,
  options: { readonly env: NodeJS.ProcessEnv; readonly secretsDir: string },
): Promise<UncoveredCheck> {
  const all = await use((q) => coverageState(q));
  const mine = new Set(all.definitions.filter((d) => d.spec.server === server).map((d) => d.spec.node));
  const state = { ...all, nodes: all.nodes.filter((n) => mine.has(n.name)) };
  const found = await discoverDatabases(state.nodes, options);
  return {
    at: new Date().toISOString(),
    databases: databaseCoverage(state, found, new Date())
      .filter((r) => r.coveredBy.length === 0)
      .map((r) => ({ node: r.node, database: r.database })),
    failures: found.failures.map((f) => ({ node: f.node, message: messageOf(f.error) })),
  };
}
