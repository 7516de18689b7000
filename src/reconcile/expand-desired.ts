import { DEFAULT_SECRETS_DIR } from '../backup/dump/read-password-file.ts';
import type { CatalogueDb } from '../catalogue/catalogue-db.ts';
import { listAnnotatedDefinitions } from '../catalogue/list-objects.ts';
import { requireCurrentSchema } from '../catalogue/migrate.ts';
import type { PgbackmanError } from '../errors.ts';
import type { SpecOf } from '../manifest/kinds.ts';
import type { PlanWarning } from '../plan/change.ts';
import type { DesiredObject } from '../plan/desired-state.ts';
import { discoverDatabases } from '../policy/discover-databases.ts';
import {
  type Expansion,
  expandPolicies,
  type GeneratedDefinition,
  selectedNodes,
} from '../policy/expand-policies.ts';
import { GENERATED_BY } from '../policy/generated-name.ts';
import { generatedObjects } from '../policy/generated-objects.ts';
import { type PolicyDatabases, policyDatabases } from '../policy/policy-databases.ts';

export interface ExpandOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** The only directory passwordFrom.file may read from. */
  readonly secretsDir?: string;
  readonly now?: Date;
}

/** The desired state with the policies' definitions, and what could not be expanded. */
export interface ExpandedDesired {
  readonly desired: readonly DesiredObject[];
  readonly unexpanded: Expansion['unexpanded'];
  readonly conflicts: Expansion['conflicts'];
  /** The nodes that were not reached, each with why. */
  readonly failures: readonly { readonly node: string; readonly error: PgbackmanError }[];
  /** The databases the policies selected on each node that was reached (kept by a saved plan). */
  readonly policyDatabases: readonly PolicyDatabases[];
}

/**
 * Adds to the manifests' desired state the definitions their policies generate: the selected nodes are
 * asked for their live databases (the only I/O, besides reading the policies' current definitions from
 * the catalogue). Without policies nothing is asked and the catalogue's generated definitions are planned away.
 */
export async function expandDesired(
  db: CatalogueDb,
  desired: readonly DesiredObject[],
  options: ExpandOptions = {},
): Promise<ExpandedDesired> {
  const policies = desired
    .filter((o) => o.kind === 'BackupPolicy')
    .map((o) => ({ name: o.name, spec: o.spec as SpecOf<'BackupPolicy'>, labels: o.labels }));
  if (policies.length === 0)
    return { desired, unexpanded: [], conflicts: [], failures: [], policyDatabases: [] };
  const nodes = desired
    .filter((o) => o.kind === 'PgSQLNode')
    .map((o) => ({ name: o.name, spec: o.spec as SpecOf<'PgSQLNode'>, labels: o.labels }));
  const wanted = new Set(policies.flatMap((p) => selectedNodes(p, nodes)));
  await requireCurrentSchema(db);
  const current = await listAnnotatedDefinitions(db, GENERATED_BY);
  const found = await discoverDatabases(
    nodes.filter((n) => wanted.has(n.name)),
    options,
  );
  const kept = new Map<GeneratedDefinition, string>();
  const previous = current.map((d) => {
    const g: GeneratedDefinition = {
      name: d.name,
      policy: (d.annotations[GENERATED_BY] ?? '').replace(/^BackupPolicy\//, ''),
      spec: d.spec,
      labels: d.labels,
      annotations: d.annotations,
    };
    kept.set(g, d.hash);
    return g;
  });
  const expansion = expandPolicies({
    policies,
    nodes,
    databases: found.databases,
    explicit: desired
      .filter((o) => o.kind === 'BackupDefinition')
      .map((o) => ({
        name: o.name,
        node: String(o.spec.node),
        database: o.spec.database as string | undefined,
      })),
    previous,
    now: options.now ?? new Date(),
  });
  const sourceOf = new Map(
    desired.filter((o) => o.kind === 'BackupPolicy').map((o) => [o.name, o.sourceFile]),
  );
  return {
    desired: [...desired, ...generatedObjects(expansion.definitions, kept, sourceOf)],
    unexpanded: expansion.unexpanded,
    conflicts: expansion.conflicts,
    failures: found.failures,
    policyDatabases: policyDatabases(policies, nodes, found.databases),
  };
}

/** One warning per policy and node that could not be expanded, and per definition not generated. */
export function expansionWarnings(x: ExpandedDesired): PlanWarning[] {
  const why = new Map(x.failures.map((f) => [f.node, f.error]));
  return [
    ...x.unexpanded.flatMap((u) =>
      u.nodes.map((node): PlanWarning => {
        const error = why.get(node);
        return {
          address: `BackupPolicy/${u.policy}`,
          reason: 'node_not_reached',
          node,
          database: null,
          name: null,
          code: error?.code ?? null,
          summary: `BackupPolicy/${u.policy} could not be expanded on node ${node} (${error === undefined ? 'not reached' : `${error.code}: ${error.message}`}); its definitions there are kept as they are`,
        };
      }),
    ),
    ...x.conflicts.map(
      (c): PlanWarning => ({
        address: `BackupPolicy/${c.policy}`,
        reason: 'name_taken',
        node: c.node,
        database: c.database,
        name: c.name,
        code: null,
        summary: `BackupPolicy/${c.policy}: no definition for database ${JSON.stringify(c.database)} on node ${c.node}: the name ${c.name} is taken`,
      }),
    ),
  ];
}

/** The secrets directory a command uses: --secrets-dir, else PGBACKMAN_SECRETS_DIR, else the default. */
export function secretsDirOf(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return flag ?? (env.PGBACKMAN_SECRETS_DIR || DEFAULT_SECRETS_DIR);
}
