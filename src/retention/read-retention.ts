import type { Queryable } from '../catalogue/catalogue-db.ts';
import { type CatalogueObject, listObjects } from '../catalogue/list-objects.ts';
import { type RetentionRun, retentionRuns } from '../catalogue/run-retention.ts';
import { TABLES } from '../catalogue/tables.ts';
import { PgbackmanError } from '../errors.ts';
import type { BackupDefinition } from '../manifest/generated/manifest-types.ts';
import { resolveSettings } from '../manifest/resolve-settings.ts';
import { type GroupRetention, groupRetention } from './retention-plan.ts';

/** What a retention plan is made of: the runs, each live definition's rules, and the servers' roots. */
export interface RetentionInput {
  readonly runs: readonly RetentionRun[];
  readonly current: (key: string) => GroupRetention | undefined;
  readonly servers: readonly CatalogueObject<'BackupServer'>[];
}

/** Each live definition's and snapshot's rules as they resolve today, by group key, and the servers. */
export async function readCurrentRules(
  q: Queryable,
  filter: { readonly server?: string; readonly names?: readonly string[] },
  /** Called once the last answer is in, before resolving: the plan sends its next statement from here. */
  beforeResolving?: () => void,
): Promise<{ current: Map<string, GroupRetention>; servers: CatalogueObject<'BackupServer'>[] }> {
  const servers = await listObjects(q, 'BackupServer');
  const nodeList = await listObjects(q, 'PgSQLNode');
  // Definitions that resolve alike come as one row with their names: twenty thousand definitions are a few
  // hundred settings to resolve. Only the fields retention resolves from: whole specs would double a plan's memory.
  const definitions = await q.query<{
    names: string[];
    spec: Pick<BackupDefinition['spec'], 'server' | 'node' | 'retention' | 'timezone'>;
  }>(
    `select json_agg(name) as names, spec
       from (select name, jsonb_strip_nulls(jsonb_build_object('server', spec->'server', 'node', spec->'node',
                    'retention', spec->'retention', 'timezone', spec->'timezone')) as spec
               from ${TABLES.BackupDefinition.table} where $1::text[] is null or name = any($1)) as d
      group by spec`,
    // The agent's sweep after a dump names one definition: it reads that one, not twenty thousand.
    [filter.names ?? null],
  );
  const snapshots = await listObjects(
    q,
    'SnapshotDefinition',
    filter.names === undefined ? {} : { names: [...filter.names] },
  );
  beforeResolving?.();
  if (filter.server !== undefined && !servers.some((s) => s.name === filter.server))
    throw new PgbackmanError('NOT_FOUND', `BackupServer/${filter.server} is not in the catalogue`);
  const nodes = new Map(nodeList.map((n) => [n.name, n]));
  const byServer = new Map(servers.map((s) => [s.name, s]));
  const current = new Map<string, GroupRetention>();
  for (const d of definitions) {
    const s = resolveSettings(d.spec, nodes.get(d.spec.node), byServer.get(d.spec.server));
    const rules = groupRetention({ ...s.retention, timezone: s.timezone }, 'definition');
    for (const name of d.names) current.set(`BackupDefinition/${name}`, rules);
  }
  for (const s of snapshots)
    current.set(
      `SnapshotDefinition/${s.name}`,
      groupRetention({ period: s.spec.retention?.period ?? '7d', redundancy: 0 }, 'snapshot'),
    );
  return { current, servers };
}

/** Throws unless every name is a definition or snapshot in the catalogue or on some run. */
export function checkNames(
  names: readonly string[] | undefined,
  current: ReadonlyMap<string, GroupRetention>,
  onRun: (name: string) => boolean,
): void {
  for (const name of names ?? []) {
    const known =
      current.has(`BackupDefinition/${name}`) || current.has(`SnapshotDefinition/${name}`) || onRun(name);
    if (!known)
      throw new PgbackmanError(
        'NOT_FOUND',
        `"${name}" is neither a definition or snapshot in the catalogue nor on any dump`,
      );
  }
}

/**
 * Reads the dumps of one server (or all) and of the named definitions and snapshots (or all), and the rules
 * their definitions have today: a name that is neither in the catalogue nor on any run is an error.
 */
export async function readRetentionInput(
  q: Queryable,
  filter: { readonly server?: string; readonly names?: readonly string[] },
): Promise<RetentionInput> {
  const { current, servers } = await readCurrentRules(q, filter);
  const runs = await retentionRuns(q, filter);
  checkNames(filter.names, current, (name) => runs.some((r) => r.definition === name || r.snapshot === name));
  return { runs, current: (key) => current.get(key), servers };
}
