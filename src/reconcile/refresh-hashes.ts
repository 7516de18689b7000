import type { Queryable } from '../catalogue/catalogue-db.ts';
import { TABLES } from '../catalogue/tables.ts';
import { KINDS } from '../manifest/kinds.ts';
import type { HashRefresh } from '../plan/change.ts';

/**
 * Stores the manifests' hashes of objects that only hash differently (keys reordered), one statement per
 * kind, so the next plan finds their hashes equal and never fetches their rows. Not a change: no
 * generation, timestamp, serial or history moves, and the spec (jsonb, so key order is not kept) stays.
 */
export async function refreshHashes(tx: Queryable, refresh: readonly HashRefresh[]): Promise<void> {
  for (const kind of KINDS) {
    const rows = refresh.filter((r) => r.kind === kind).map((r) => ({ name: r.name, spec_hash: r.hash }));
    if (rows.length === 0) continue;
    await tx.query(
      `update ${TABLES[kind].table} as t set spec_hash = r.spec_hash
         from jsonb_to_recordset($1::jsonb) as r(name text, spec_hash text) where t.name = r.name`,
      [JSON.stringify(rows)],
    );
  }
}
