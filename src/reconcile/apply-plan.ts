import type { Queryable } from '../catalogue/catalogue-db.ts';
import type { CatalogueHead } from '../catalogue/read-state.ts';
import { refValue, TABLES } from '../catalogue/tables.ts';
import { PgbackmanError } from '../errors.ts';
import { KINDS, type Kind } from '../manifest/kinds.ts';
import type { Change, Plan } from '../plan/change.ts';
import type { ObjectState } from '../plan/object-state.ts';
import type { CommitInfo } from '../source/revision.ts';
import { affectedServers } from './affected-servers.ts';
import { historyChanges } from './history-changes.ts';
import { refreshHashes } from './refresh-hashes.ts';

export interface ApplyContext {
  readonly appliedBy: string;
  readonly revision: string | null;
  /** The revision's commit (author, subject), when git could tell. */
  readonly commit?: CommitInfo | null | undefined;
}

/**
 * Carries out a plan inside the caller's transaction (which holds the catalogue lock): a few statements
 * per kind whatever the number of objects, the stale hashes refreshed, then the serial, a history row
 * (addresses and changed fields) and a NOTIFY per backup server.
 */
export async function applyPlan(
  tx: Queryable,
  plan: Plan,
  head: CatalogueHead,
  ctx: ApplyContext,
): Promise<number> {
  const of = (kind: Kind, action: Change['action']) =>
    plan.changes.filter((c) => c.kind === kind && c.action === action);
  // First, so every object written carries the serial of the apply that wrote it (agents read what changed since).
  const [row] = await tx.query<{ serial: string }>(
    'update pgbackman.catalogue set serial = serial + 1, last_apply_at = now() returning serial::text',
  );
  const serial = Number(row?.serial);
  try {
    for (const kind of KINDS) {
      const moves = of(kind, 'move') as Extract<Change, { action: 'move' }>[];
      if (moves.length > 0)
        await renameObjects(
          tx,
          kind,
          moves.map((m) => ({ old_name: m.previousName, new_name: m.name })),
          serial,
        );
      const creates = of(kind, 'create') as Extract<Change, { action: 'create' }>[];
      if (creates.length > 0)
        await writeObjects(
          tx,
          kind,
          'insert',
          creates.map((c) => c.after),
          ctx.revision,
          serial,
        );
      const updates = [...of(kind, 'update'), ...moves] as Extract<Change, { action: 'update' | 'move' }>[];
      if (updates.length > 0)
        await writeObjects(
          tx,
          kind,
          'update',
          updates.map((c) => c.after),
          ctx.revision,
          serial,
        );
    }
    for (const kind of [...KINDS].reverse()) {
      const names = of(kind, 'delete').map((c) => c.name);
      if (names.length > 0)
        await tx.query(`delete from ${TABLES[kind].table} where name = any($1::text[])`, [names]);
    }
  } catch (err) {
    const e = err as { code?: string; detail?: string; message?: string };
    if (e.code === '23503') {
      throw new PgbackmanError(
        'PLAN_REFUSED',
        `the catalogue refused the change: ${e.detail ?? e.message ?? 'a reference would break'} (an object not managed by the manifests still refers to it)`,
        { cause: err },
      );
    }
    throw err;
  }
  await refreshHashes(tx, plan.refresh);
  await tx.query(
    `insert into pgbackman.apply_history (serial, lineage, applied_by, revision, changes, summary, commit_author, commit_subject)
     values ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [
      serial,
      head.lineage,
      ctx.appliedBy,
      ctx.revision,
      JSON.stringify(historyChanges(plan)),
      JSON.stringify(plan.summary),
      ctx.commit?.author ?? null,
      ctx.commit?.subject ?? null,
    ],
  );
  const servers = await affectedServers(tx, plan);
  if (servers.length > 0)
    await tx.query("select pg_notify('pgbackman', s) from unnest($1::text[]) as s", [servers]);
  return serial;
}

async function renameObjects(
  tx: Queryable,
  kind: Kind,
  renames: { old_name: string; new_name: string }[],
  serial: number,
): Promise<void> {
  await tx.query(
    `update ${TABLES[kind].table} as t set name = r.new_name, updated_at = now(), applied_serial = $2
       from jsonb_to_recordset($1::jsonb) as r(old_name text, new_name text) where t.name = r.old_name`,
    [JSON.stringify(renames), serial],
  );
}

async function writeObjects(
  tx: Queryable,
  kind: Kind,
  mode: 'insert' | 'update',
  objects: ObjectState[],
  revision: string | null,
  serial: number,
): Promise<void> {
  const { table, refs } = TABLES[kind];
  const records = objects.map((o) => ({
    name: o.name,
    spec: o.spec,
    labels: o.labels,
    annotations: o.annotations,
    spec_hash: o.hash,
    source_file: o.sourceFile,
    ...Object.fromEntries(refs.map((r) => [r.column, refValue(o.spec, r.from)])),
  }));
  const refColumns = refs.map((r) => r.column);
  const shape = [
    'name text',
    'spec jsonb',
    'labels jsonb',
    'annotations jsonb',
    'spec_hash text',
    'source_file text',
    ...refColumns.map((c) => `${c} text`),
  ].join(', ');
  if (mode === 'insert') {
    const columns = ['name', 'spec', 'labels', 'annotations', 'spec_hash', 'source_file', ...refColumns];
    await tx.query(
      `insert into ${table} (${columns.join(', ')}, source_revision, managed, applied_serial)
       select ${columns.map((c) => `r.${c}`).join(', ')}, $2, true, $3 from jsonb_to_recordset($1::jsonb) as r(${shape})`,
      [JSON.stringify(records), revision, serial],
    );
    return;
  }
  const sets = ['spec', 'labels', 'annotations', 'spec_hash', 'source_file', ...refColumns].map(
    (c) => `${c} = r.${c}`,
  );
  await tx.query(
    `update ${table} as t set ${sets.join(', ')}, source_revision = $2, managed = true,
            generation = t.generation + 1, updated_at = now(), applied_serial = $3
       from jsonb_to_recordset($1::jsonb) as r(${shape}) where t.name = r.name`,
    [JSON.stringify(records), revision, serial],
  );
}
