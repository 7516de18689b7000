import type { Queryable } from '../catalogue/catalogue-db.ts';
import { type CatalogueObject, listObjects } from '../catalogue/list-objects.ts';
import { coverage, type DatabaseCoverage } from './coverage.ts';
import type { Discovery } from './discover-databases.ts';
import { expandPolicies, type GeneratedDefinition } from './expand-policies.ts';
import { GENERATED_BY } from './generated-name.ts';

/** What coverage is judged from, read from the catalogue before the nodes are asked. */
export interface CoverageState {
  /** The nodes whose databases are asked for. */
  readonly nodes: readonly CatalogueObject<'PgSQLNode'>[];
  readonly allNodes: readonly CatalogueObject<'PgSQLNode'>[];
  readonly definitions: readonly CatalogueObject<'BackupDefinition'>[];
  readonly policies: readonly CatalogueObject<'BackupPolicy'>[];
}

/** The catalogue's side; `nodes` narrows which nodes are asked (all when absent). */
export async function coverageState(
  q: Queryable,
  nodes?: (all: readonly CatalogueObject<'PgSQLNode'>[]) => readonly CatalogueObject<'PgSQLNode'>[],
): Promise<CoverageState> {
  const allNodes = await listObjects(q, 'PgSQLNode');
  return {
    nodes: nodes === undefined ? allNodes : nodes(allNodes),
    allNodes,
    definitions: await listObjects(q, 'BackupDefinition'),
    policies: await listObjects(q, 'BackupPolicy'),
  };
}

/**
 * Each live database of the asked nodes with what backs it up: the definitions written, and those the
 * policies generate (now, or at the next reconcile). Pure.
 */
export function databaseCoverage(state: CoverageState, found: Discovery, now: Date): DatabaseCoverage[] {
  const generatedBy = (d: CatalogueObject<'BackupDefinition'>) =>
    d.annotations[GENERATED_BY]?.replace(/^BackupPolicy\//, '');
  const expansion = expandPolicies({
    policies: state.policies,
    nodes: state.allNodes,
    databases: found.databases,
    explicit: state.definitions
      .filter((d) => generatedBy(d) === undefined)
      .map((d) => ({ name: d.name, node: d.spec.node, database: d.spec.database })),
    previous: state.definitions.flatMap((d): GeneratedDefinition[] => {
      const policy = generatedBy(d);
      return policy === undefined ? [] : [{ ...d, policy }];
    }),
    now,
  });
  return coverage(found.databases, state.definitions, expansion);
}
