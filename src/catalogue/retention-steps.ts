import type { Queryable } from './catalogue-db.ts';

/**
 * What retention writes to backup_runs: pins, and each deletion's recorded steps. Every update is guarded
 * in its WHERE, so a pin taken between a plan and its sweep wins.
 */

/** Pins a successful dump that is not being deleted; false when there is none such. */
export async function pinRun(q: Queryable, id: string, by: string, reason: string | null): Promise<boolean> {
  const rows = await q.query(
    `update pgbackman.backup_runs set pinned_at = now(), pinned_by = $2, pin_reason = $3
      where id = $1::uuid and status in ('SUCCEEDED', 'SUCCEEDED_PARTIAL') and deletion is null returning id`,
    [id, by, reason],
  );
  return rows.length === 1;
}

/** Removes a pin; false when the dump was not pinned. */
export async function unpinRun(q: Queryable, id: string): Promise<boolean> {
  const rows = await q.query(
    `update pgbackman.backup_runs set pinned_at = null, pinned_by = null, pin_reason = null
      where id = $1::uuid and pinned_at is not null returning id`,
    [id],
  );
  return rows.length === 1;
}

/** How far a run's deletion went: not begun (null), DELETING, or DELETED. */
export type DeletionState = 'DELETING' | 'DELETED' | null;

/** What a sweep reads of runs before deleting them: where their files are and how far their deletion went. */
export async function deletionsOf(
  q: Queryable,
  ids: readonly string[],
): Promise<
  Map<
    string,
    { readonly dumpPath: string | null; readonly deletion: DeletionState; readonly released: boolean }
  >
> {
  const rows = await q.query<{
    id: string;
    dump_path: string | null;
    deletion: DeletionState;
    root_copy: string;
  }>(
    'select id::text, dump_path, deletion, root_copy from pgbackman.backup_runs where id = any($1::uuid[])',
    [ids],
  );
  return new Map(
    rows.map((r) => [
      r.id,
      { dumpPath: r.dump_path, deletion: r.deletion, released: r.root_copy === 'RELEASED' },
    ]),
  );
}

/** First step of deletions: the runs it marked DELETING (not a pinned or running one, nor one already being deleted). */
export async function markDeleting(
  q: Queryable,
  runs: readonly { readonly id: string; readonly reason: string }[],
): Promise<Set<string>> {
  if (runs.length === 0) return new Set();
  const rows = await q.query<{ id: string }>(
    `update pgbackman.backup_runs b set deletion = 'DELETING', deleted_reason = r.reason
       from unnest($1::uuid[], $2::text[]) as r(id, reason)
      where b.id = r.id and b.deletion is null and b.pinned_at is null and b.status <> 'RUNNING'
      returning b.id::text`,
    [runs.map((r) => r.id), runs.map((r) => r.reason)],
  );
  return new Set(rows.map((r) => r.id));
}

/** Last step: their files are gone. */
export async function markDeleted(q: Queryable, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await q.query(
    `update pgbackman.backup_runs set deletion = 'DELETED', deleted_at = now()
      where id = any($1::uuid[]) and deletion = 'DELETING'`,
    [ids],
  );
}
