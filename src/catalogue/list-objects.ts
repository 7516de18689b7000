import type { Kind, SpecOf } from '../manifest/kinds.ts';
import type { Queryable } from './catalogue-db.ts';
import { TABLES } from './tables.ts';

/** An object as the catalogue holds it; its spec was validated against its kind's schema when applied. */
export interface CatalogueObject<K extends Kind = Kind> {
  readonly kind: K;
  readonly name: string;
  readonly spec: SpecOf<K>;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly generation: number;
  readonly managed: boolean;
  readonly source: { readonly file: string | null; readonly revision: string | null };
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface ObjectFilter {
  readonly server?: string;
  readonly node?: string;
  readonly database?: string;
  readonly name?: string;
  /** Only these names (a reader that already has the others). */
  readonly names?: readonly string[];
}

interface Row {
  name: string;
  spec: Record<string, unknown>;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  generation: string;
  managed: boolean;
  source_file: string | null;
  source_revision: string | null;
  created_at: Date;
  updated_at: Date;
}

/** The objects of one kind, filtered in SQL by the columns the kind has (server, node, database). */
export async function listObjects<K extends Kind>(
  q: Queryable,
  kind: K,
  filter: ObjectFilter = {},
): Promise<CatalogueObject<K>[]> {
  const { table, refs } = TABLES[kind];
  const columns = new Set(refs.map((r) => r.column));
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (column: string, value: string | undefined) => {
    if (value === undefined) return;
    params.push(value);
    where.push(`${column} = $${params.length}`);
  };
  add('name', filter.name);
  if (filter.names !== undefined) {
    params.push(filter.names);
    where.push(`name = any($${params.length}::text[])`);
  }
  if (filter.server !== undefined)
    add(columns.has('server') ? 'server' : kind === 'BackupServer' ? 'name' : 'null', filter.server);
  if (filter.node !== undefined)
    add(
      columns.has('node')
        ? 'node'
        : columns.has('target_node')
          ? 'target_node'
          : kind === 'PgSQLNode'
            ? 'name'
            : 'null',
      filter.node,
    );
  if (filter.database !== undefined) add(columns.has('database') ? 'database' : 'null', filter.database);
  const rows = await q.query<Row>(
    `select name, spec, labels, annotations, generation::text, managed, source_file, source_revision, created_at, updated_at
       from ${table} ${where.length > 0 ? `where ${where.join(' and ')}` : ''} order by name`,
    params,
  );
  return rows.map((r) => ({
    kind,
    name: r.name,
    // The one place a row becomes typed: only apply writes specs, and only validated ones.
    spec: r.spec as SpecOf<K>,
    labels: r.labels,
    annotations: r.annotations,
    generation: Number(r.generation),
    managed: r.managed,
    source: { file: r.source_file, revision: r.source_revision },
    createdAt: new Date(r.created_at).toISOString(),
    updatedAt: new Date(r.updated_at).toISOString(),
  }));
}

/**
 * Each object's version (`generation@updated_at`, both set by apply on every change): what a reader that
 * keeps the objects compares to know which to read again. Filtered like listObjects, by server only;
 * `since`: only the objects an apply wrote after that serial.
 */
export async function listVersions(
  q: Queryable,
  kind: Kind,
  filter: { readonly server?: string; readonly since?: number } = {},
): Promise<Map<string, string>> {
  const { table, refs } = TABLES[kind];
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.server !== undefined && refs.some((r) => r.column === 'server')) {
    params.push(filter.server);
    where.push(`server = $${params.length}`);
  }
  if (filter.since !== undefined) {
    params.push(filter.since);
    where.push(`applied_serial > $${params.length}`);
  }
  const rows = await q.query<{ name: string; version: string }>(
    `select name, generation::text || '@' || (extract(epoch from updated_at) * 1000000)::bigint::text as version
       from ${table} ${where.length > 0 ? `where ${where.join(' and ')}` : ''}`,
    params,
  );
  return new Map(rows.map((r) => [r.name, r.version]));
}

/** How many objects of one kind a server has. */
export async function countOnServer(
  q: Queryable,
  kind: 'BackupDefinition' | 'SnapshotDefinition',
  server: string,
): Promise<number> {
  const [row] = await q.query<{ n: number }>(
    `select count(*)::int as n from ${TABLES[kind].table} where server = $1`,
    [server],
  );
  return row?.n ?? 0;
}

/** What a scheduler keeps of a definition: no labels, annotations, timestamps or file names (20,000 of them add up). */
export interface ObjectSpec<K extends Kind = Kind> {
  readonly name: string;
  readonly spec: SpecOf<K>;
  readonly revision: string | null;
}

/** Some objects of one kind on one server, by name: only their specs and revisions. */
export async function listSpecs<K extends 'BackupDefinition' | 'SnapshotDefinition'>(
  q: Queryable,
  kind: K,
  server: string,
  names: readonly string[],
): Promise<ObjectSpec<K>[]> {
  return q.query<ObjectSpec<K>>(
    `select name, spec, source_revision as revision from ${TABLES[kind].table}
      where server = $1 and name = any($2::text[])`,
    [server, names],
  );
}

/** The BackupDefinitions that carry `annotation` (the policies' own), with the hash they were applied with. */
export async function listAnnotatedDefinitions(
  q: Queryable,
  annotation: string,
): Promise<(CatalogueObject<'BackupDefinition'> & { readonly hash: string })[]> {
  const rows = await q.query<Row & { spec_hash: string }>(
    `select name, spec, labels, annotations, generation::text, managed, source_file, source_revision, created_at, updated_at, spec_hash
       from ${TABLES.BackupDefinition.table} where annotations ? $1 order by name`,
    [annotation],
  );
  return rows.map((r) => ({
    kind: 'BackupDefinition',
    name: r.name,
    spec: r.spec as SpecOf<'BackupDefinition'>,
    labels: r.labels,
    annotations: r.annotations,
    generation: Number(r.generation),
    managed: r.managed,
    source: { file: r.source_file, revision: r.source_revision },
    createdAt: new Date(r.created_at).toISOString(),
    updatedAt: new Date(r.updated_at).toISOString(),
    hash: r.spec_hash,
  }));
}

/** Whether the catalogue holds any object of this kind. */
export async function anyObjects(q: Queryable, kind: Kind): Promise<boolean> {
  const rows = await q.query<{ found: boolean }>(
    `select exists (select from ${TABLES[kind].table}) as found`,
  );
  return rows[0]?.found === true;
}
