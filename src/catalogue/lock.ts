import { PgbackmanError } from '../errors.ts';
import type { Queryable } from './catalogue-db.ts';

// The catalogue-wide apply lock; an arbitrary constant ("pgba").
export const APPLY_LOCK = 0x70676261;

/**
 * Takes the catalogue lock for the current transaction without waiting: a second apply fails at once
 * and says who holds the lock and since when (the lock is released when the transaction ends).
 */
export async function lockCatalogue(tx: Queryable): Promise<void> {
  const [row] = await tx.query<{ ok: boolean }>('select pg_try_advisory_xact_lock($1) as ok', [APPLY_LOCK]);
  if (row?.ok) return;
  const [holder] = await tx.query<{
    pid: number;
    application_name: string;
    usename: string;
    since: Date | null;
  }>(
    `select a.pid, a.application_name, a.usename, a.xact_start as since
       from pg_catalog.pg_locks l join pg_catalog.pg_stat_activity a on a.pid = l.pid
      where l.locktype = 'advisory' and l.granted and l.classid = 0 and l.objid = $1::bigint::oid`,
    [APPLY_LOCK],
  );
  const who =
    holder === undefined
      ? 'another process'
      : `${holder.application_name || 'a session'} (pid ${holder.pid}, user ${holder.usename}) since ${holder.since?.toISOString() ?? 'unknown'}`;
  throw new PgbackmanError(
    'APPLY_LOCKED',
    `the catalogue is locked by ${who}: another apply is running; try again when it has finished`,
  );
}
