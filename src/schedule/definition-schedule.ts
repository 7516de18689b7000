import type { CatalogueObject } from '../catalogue/list-objects.ts';
import { type EffectiveSettings, inheritedSettings, resolveSettings } from '../manifest/resolve-settings.ts';
import { type ResolvedSchedule, resolveSchedule } from './auto-schedule.ts';
import { nextRun } from './next-runs.ts';

/** Which object's `suspend: true` stops a definition: its own, its node's or its server's. */
export interface Suspension {
  readonly by: 'definition' | 'node' | 'server';
  readonly name: string;
}

export interface DefinitionSchedule {
  readonly schedule: ResolvedSchedule;
  readonly suspended: Suspension | null;
}

export type Parents = {
  readonly nodes: ReadonlyMap<string, CatalogueObject<'PgSQLNode'>>;
  readonly servers: ReadonlyMap<string, CatalogueObject<'BackupServer'>>;
};

/** A catalogued definition's resolved schedule and what suspends it, from its node and server. */
export function definitionSchedule(
  definition: CatalogueObject<'BackupDefinition'>,
  { nodes, servers }: Parents,
): DefinitionSchedule {
  const node = nodes.get(definition.spec.node);
  const server = servers.get(definition.spec.server);
  const { timezone } = resolveSettings(definition.spec, node, server);
  const schedule = resolveSchedule(
    { kind: definition.kind, name: definition.name, schedule: definition.spec.schedule },
    {
      name: definition.spec.node,
      backupWindow: node?.spec.backupWindow,
      defaults: node?.spec.defaults,
    },
    timezone,
  );
  return { schedule, suspended: suspensionOf(definition, { nodes, servers }) };
}

/** The first of the definition, its node, its server that has `suspend: true`. */
export function suspensionOf(
  definition: {
    readonly name: string;
    readonly spec: { readonly node: string; readonly server: string; readonly suspend?: boolean | undefined };
  },
  { nodes, servers }: Parents,
): Suspension | null {
  const { node, server } = definition.spec;
  if (definition.spec.suspend === true) return { by: 'definition', name: definition.name };
  if (nodes.get(node)?.spec.suspend === true) return { by: 'node', name: node };
  if (servers.get(server)?.spec.suspend === true) return { by: 'server', name: server };
  return null;
}

/** Nodes and servers by name, as definitionSchedule takes them. */
export function parentsOf(
  nodes: readonly CatalogueObject<'PgSQLNode'>[],
  servers: readonly CatalogueObject<'BackupServer'>[],
): Parents {
  return {
    nodes: new Map(nodes.map((n) => [n.name, n])),
    servers: new Map(servers.map((s) => [s.name, s])),
  };
}

/** A definition as `get definitions` shows it: the catalogue's object, its resolved schedule and next run. */
export type DefinitionView = CatalogueObject<'BackupDefinition'> & {
  readonly resolvedSchedule: ResolvedSchedule;
  /** Its dump settings once its node's, its server's and the built-in defaults filled the gaps (null: none). */
  readonly effective: Omit<EffectiveSettings, 'compression' | 'encryption'> & {
    readonly compression: EffectiveSettings['compression'] | null;
    readonly encryption: EffectiveSettings['encryption'] | null;
  };
  /** The effective settings it does not set itself, and where each comes from. */
  readonly inherited: ReturnType<typeof inheritedSettings>;
  readonly nextRunAt: string | null;
  readonly suspended: Suspension | null;
};

/** The view of a definition at `now`: no next run while it, its node or its server is suspended. */
export function definitionView(
  definition: CatalogueObject<'BackupDefinition'>,
  parents: Parents,
  now: Date,
): DefinitionView {
  const { schedule, suspended } = definitionSchedule(definition, parents);
  const next = suspended === null ? nextRun(schedule.cron, schedule.timezone, now) : null;
  const node = parents.nodes.get(definition.spec.node);
  const server = parents.servers.get(definition.spec.server);
  return {
    ...definition,
    resolvedSchedule: schedule,
    effective: withNulls(resolveSettings(definition.spec, node, server)),
    inherited: inheritedSettings(definition.spec, node, server),
    nextRunAt: next?.toISOString() ?? null,
    suspended,
  };
}

/** Settings JSON would drop when undefined (no compression, no encryption) said as null: every key is there. */
function withNulls(e: EffectiveSettings): DefinitionView['effective'] {
  return { ...e, compression: e.compression ?? null, encryption: e.encryption ?? null };
}
