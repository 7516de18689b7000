import { parseDuration } from '../manifest/check-values.ts';
import type { SpecOf } from '../manifest/kinds.ts';
import { selectsDatabase } from './database-selector.ts';
import { GENERATED_BY, generatedName } from './generated-name.ts';

/** When a generated definition's database was first found missing from its node (an ISO 8601 time). */
export const DATABASE_DROPPED_AT = 'pgbackman.io/database-dropped-at';

const DEFAULT_DELETED_RETENTION = '14d';

export interface PolicyInput {
  readonly name: string;
  readonly spec: SpecOf<'BackupPolicy'>;
  readonly labels: Readonly<Record<string, string>>;
}

export interface NodeInput {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** A BackupDefinition someone wrote: for its node and database, no policy generates one. */
export interface ExplicitDefinition {
  readonly name: string;
  readonly node: string;
  readonly database: string | undefined;
}

/** A definition a policy generates: a BackupDefinition like any other, annotated with its policy. */
export interface GeneratedDefinition {
  readonly name: string;
  readonly policy: string;
  readonly spec: SpecOf<'BackupDefinition'>;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

export interface ExpansionInput {
  readonly policies: readonly PolicyInput[];
  readonly nodes: readonly NodeInput[];
  /** The live databases of each node that was reached; a node that is missing could not be reached. */
  readonly databases: ReadonlyMap<string, readonly string[]>;
  readonly explicit: readonly ExplicitDefinition[];
  /** The generated definitions as they are now (the catalogue's): kept for nodes not reached, and dropped databases. */
  readonly previous: readonly GeneratedDefinition[];
  readonly now: Date;
}

export interface Expansion {
  /** Sorted by name. */
  readonly definitions: readonly GeneratedDefinition[];
  /** Policies with selected nodes that were not reached: their definitions there were kept as they were. */
  readonly unexpanded: readonly { readonly policy: string; readonly nodes: readonly string[] }[];
  /** Definitions not generated because their name is taken (by an explicit definition, or another generated one). */
  readonly conflicts: readonly {
    readonly name: string;
    readonly policy: string;
    readonly node: string;
    readonly database: string;
  }[];
}

interface Candidate {
  readonly policy: PolicyInput;
  readonly node: string;
  readonly database: string;
  /** Set while a dropped database's definition is kept, suspended. */
  readonly droppedAt: string | undefined;
}

/**
 * The definitions the policies generate: one per live database each selects on each node it selects, unless
 * an explicit definition covers that node and database (unless the policy has
 * `databases.skipDatabasesWithDefinitions: false`: then it covers those too, beside the explicit one). A database that disappeared keeps its definition,
 * suspended, for the policy's deletedDatabaseRetention; a node that was not reached keeps its definitions.
 */
export function expandPolicies(input: ExpansionInput): Expansion {
  const explicitNames = new Set(input.explicit.map((d) => d.name));
  const covered = new Set(
    input.explicit.filter((d) => d.database !== undefined).map((d) => key(d.node, d.database ?? '')),
  );
  const kept: GeneratedDefinition[] = [];
  const candidates: Candidate[] = [];
  const unexpanded: { policy: string; nodes: string[] }[] = [];
  for (const policy of [...input.policies].sort((a, b) => compare(a.name, b.name))) {
    const mine = input.previous.filter((d) => d.policy === policy.name);
    const skipCovered = policy.spec.databases?.skipDatabasesWithDefinitions !== false;
    const unreached: string[] = [];
    for (const node of selectedNodes(policy, input.nodes)) {
      const live = input.databases.get(node);
      const before = mine.filter((d) => d.spec.node === node);
      if (live === undefined) {
        unreached.push(node);
        // A name someone has since given to a definition of their own is theirs.
        kept.push(...before.filter((d) => !explicitNames.has(d.name)));
        continue;
      }
      const wanted = (db: string) =>
        selectsDatabase(policy.spec.databases, db) && !(skipCovered && covered.has(key(node, db)));
      for (const database of live)
        if (wanted(database)) candidates.push({ policy, node, database, droppedAt: undefined });
      const liveSet = new Set(live);
      for (const d of before) {
        const database = d.spec.database;
        if (database === undefined || liveSet.has(database) || !wanted(database)) continue;
        const droppedAt = d.annotations[DATABASE_DROPPED_AT] ?? input.now.toISOString();
        const retention = parseDuration(policy.spec.deletedDatabaseRetention ?? DEFAULT_DELETED_RETENTION);
        if (input.now.getTime() - Date.parse(droppedAt) < retention)
          candidates.push({ policy, node, database, droppedAt });
      }
    }
    if (unreached.length > 0) unexpanded.push({ policy: policy.name, nodes: unreached });
  }
  const { definitions, conflicts } = nameCandidates(candidates, kept, explicitNames);
  return {
    definitions: [...kept, ...definitions].sort((a, b) => compare(a.name, b.name)),
    unexpanded,
    conflicts,
  };
}

/** The nodes a policy covers: those it names, and those with all of its matchLabels. */
export function selectedNodes(policy: PolicyInput, nodes: readonly NodeInput[]): string[] {
  const names = new Set(policy.spec.nodeSelector.names ?? []);
  const wanted = Object.entries(policy.spec.nodeSelector.matchLabels ?? {});
  return nodes
    .filter((n) => names.has(n.name) || (wanted.length > 0 && wanted.every(([k, v]) => n.labels[k] === v)))
    .map((n) => n.name)
    .sort(compare);
}

/** Plain names where they are unique; hashed names for those two would share; conflicts for what is left. */
function nameCandidates(
  candidates: readonly Candidate[],
  kept: readonly GeneratedDefinition[],
  explicitNames: ReadonlySet<string>,
): Pick<Expansion, 'definitions' | 'conflicts'> {
  const taken = new Set([...explicitNames, ...kept.map((d) => d.name)]);
  const plain = candidates.map((c) => generatedName(c.policy.name, c.node, c.database));
  const count = new Map<string, number>();
  for (const name of plain) count.set(name, (count.get(name) ?? 0) + 1);
  const definitions: GeneratedDefinition[] = [];
  const conflicts: { name: string; policy: string; node: string; database: string }[] = [];
  for (const [i, c] of candidates.entries()) {
    const first = plain[i] ?? '';
    const name =
      taken.has(first) || (count.get(first) ?? 0) > 1
        ? generatedName(c.policy.name, c.node, c.database, true)
        : first;
    if (taken.has(name)) {
      conflicts.push({ name, policy: c.policy.name, node: c.node, database: c.database });
      continue;
    }
    taken.add(name);
    definitions.push(generated(name, c));
  }
  return { definitions, conflicts };
}

function generated(name: string, c: Candidate): GeneratedDefinition {
  const { policy } = c;
  const suspend = policy.spec.suspend === true || c.droppedAt !== undefined;
  return {
    name,
    policy: policy.name,
    spec: {
      server: policy.spec.server,
      node: c.node,
      database: c.database,
      ...policy.spec.template,
      ...(suspend ? { suspend: true } : {}),
    },
    labels: policy.labels,
    annotations: {
      [GENERATED_BY]: `BackupPolicy/${policy.name}`,
      ...(c.droppedAt === undefined ? {} : { [DATABASE_DROPPED_AT]: c.droppedAt }),
    },
  };
}

function key(node: string, database: string): string {
  return JSON.stringify([node, database]);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
