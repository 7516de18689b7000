import { KINDS, type Kind } from '../manifest/kinds.ts';
import type { ObjectState } from '../plan/object-state.ts';
import type { Queryable } from './catalogue-db.ts';
import { TABLES } from './tables.ts';

interface Row {
  kind: Kind;
  name: string;
  spec: Record<string, unknown>;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  spec_hash: string;
  source_file: string | null;
  managed: boolean;
}

/** Every object in the catalogue, in one query: the plan's "actual" side. */
export async function readState(q: Queryable): Promise<ObjectState[]> {
  const sql = KINDS.map(
    (kind) =>
      `select '${kind}' as kind, name, spec, labels, annotations, spec_hash, source_file, managed from ${TABLES[kind].table}`,
  ).join(' union all ');
  const rows = await q.query<Row>(sql);
  return rows.map((r) => ({
    kind: r.kind,
    name: r.name,
    spec: r.spec,
    labels: r.labels,
    annotations: r.annotations,
    hash: r.spec_hash,
    sourceFile: r.source_file,
    managed: r.managed,
  }));
}

export interface CatalogueHead {
  readonly lineage: string;
  readonly serial: number;
}

export async function readHead(q: Queryable): Promise<CatalogueHead> {
  const [row] = await q.query<{ lineage: string; serial: string }>(
    'select lineage::text, serial::text from pgbackman.catalogue',
  );
  if (row === undefined) throw new Error('the catalogue has no lineage row');
  return { lineage: row.lineage, serial: Number(row.serial) };
}
