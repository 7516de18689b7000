import { setTimeout as sleep } from 'node:timers/promises';
import { PgbackmanError } from '../errors.ts';
import type { Queryable } from './catalogue-db.ts';

// The catalogue-wide apply lock; an arbitrary constant ("pgba").
export const APPLY_LOCK = 0x70676261;

/** How often a waiting apply tries the lock again. */
const RETRY_MS = 100;

/**
 * Takes the catalogue lock for the current transaction, waiting at most `waitMs` (0: not at all): a
 * second apply then fails and says who holds the lock and since when (released when the transaction ends).
 * Polled rather than blocking so the transaction stays usable, and read-committed reads after it see the
 * holder's changes.
 */
export async function lockCatalogue(tx: Queryable, waitMs = 0): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const [row] = await tx.query<{ ok: boolean }>('select pg_try_advisory_xact_lock($1) as ok', [APPLY_LOCK]);
    if (row?.ok) return;
    if (Date.now() + RETRY_MS > deadline) break;
    await sleep(RETRY_MS);
  }
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
