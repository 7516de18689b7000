import type { Expansion } from './expand-policies.ts';
import { GENERATED_BY } from './generated-name.ts';

/** A BackupDefinition as the catalogue holds it, as far as coverage goes. */
export interface CoveringDefinition {
  readonly name: string;
  readonly spec: { readonly node: string; readonly database?: string; readonly suspend?: boolean };
  readonly annotations: Readonly<Record<string, string>>;
}

export interface Cover {
  /** The definition that dumps the database (a generated one may not be in the catalogue yet). */
  readonly definition: string;
  /** The policy that generated it; null for a definition someone wrote. */
  readonly policy: string | null;
  /** In the catalogue (false: the policy will generate it at the next plan or reconcile). */
  readonly applied: boolean;
  readonly suspended: boolean;
}

export interface DatabaseCoverage {
  readonly node: string;
  readonly database: string;
  /** Empty when nothing backs the database up. */
  readonly coveredBy: readonly Cover[];
}

/**
 * Which definitions cover each live database: the catalogue's own (a node's CLUSTER definition covers no
 * single database), and the policies' expansion for databases whose definition is not applied yet.
 */
export function coverage(
  live: ReadonlyMap<string, readonly string[]>,
  definitions: readonly CoveringDefinition[],
  expansion: Expansion,
): DatabaseCoverage[] {
  const covers = new Map<string, Cover[]>();
  const add = (node: string, database: string | undefined, cover: Cover) => {
    if (database === undefined) return;
    const k = JSON.stringify([node, database]);
    covers.set(k, [...(covers.get(k) ?? []), cover]);
  };
  const applied = new Set(definitions.map((d) => d.name));
  for (const d of definitions)
    add(d.spec.node, d.spec.database, {
      definition: d.name,
      policy: d.annotations[GENERATED_BY]?.replace(/^BackupPolicy\//, '') ?? null,
      applied: true,
      suspended: d.spec.suspend === true,
    });
  for (const d of expansion.definitions)
    if (!applied.has(d.name))
      add(d.spec.node, d.spec.database, {
        definition: d.name,
        policy: d.policy,
        applied: false,
        suspended: d.spec.suspend === true,
      });
  const rows: DatabaseCoverage[] = [];
  for (const node of [...live.keys()].sort())
    for (const database of live.get(node) ?? [])
      rows.push({ node, database, coveredBy: covers.get(JSON.stringify([node, database])) ?? [] });
  return rows;
}
