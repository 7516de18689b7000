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

// Shared by every unchanged object (never read, never changed): 20,000 of them need no 60,000 empty objects.
const NONE: Record<string, never> = Object.freeze({});

/**
 * The catalogue objects a plan against `desired` needs, read in two steps: every object's name and hash,
 * then the full rows of only those that differ (changed, missing from the manifests, unmanaged). Objects
 * whose hash matches are never compared field by field, so their specs are not fetched or parsed.
 */
export async function readStateFor(
  q: Queryable,
  desired: readonly { kind: Kind; name: string; hash: string }[],
): Promise<ObjectState[]> {
  const heads = await q.query<{ kind: Kind; name: string; spec_hash: string; managed: boolean }>(
    KINDS.map((kind) => `select '${kind}' as kind, name, spec_hash, managed from ${TABLES[kind].table}`).join(
      ' union all ',
    ),
  );
  const wanted = new Map(desired.map((d) => [`${d.kind}/${d.name}`, d.hash]));
  const needed = new Map<Kind, string[]>();
  const state: ObjectState[] = [];
  for (const h of heads) {
    if (h.managed && wanted.get(`${h.kind}/${h.name}`) === h.spec_hash) {
      state.push({
        kind: h.kind,
        name: h.name,
        spec: NONE,
        labels: NONE,
        annotations: NONE,
        hash: h.spec_hash,
        sourceFile: null,
        managed: true,
      });
    } else {
      const names = needed.get(h.kind) ?? [];
      names.push(h.name);
      needed.set(h.kind, names);
    }
  }
  if (needed.size === 0) return state;
  const params: string[][] = [];
  const sql = [...needed.entries()].map(([kind, names]) => {
    params.push(names);
    return `select '${kind}' as kind, name, spec, labels, annotations, spec_hash, source_file, managed from ${TABLES[kind].table} where name = any($${params.length}::text[])`;
  });
  const rows = await q.query<Row>(sql.join(' union all '), params);
  for (const r of rows) state.push(toObjectState(r));
  return state;
}

function toObjectState(r: Row): ObjectState {
  return {
    kind: r.kind,
    name: r.name,
    spec: r.spec,
    labels: r.labels,
    annotations: r.annotations,
    hash: r.spec_hash,
    sourceFile: r.source_file,
    managed: r.managed,
  };
}
