import { PgbackmanError } from '../errors.ts';
import type { Queryable } from './catalogue-db.ts';

// Socket errors, and the server going away or refusing new sessions (admin shutdown, starting up, too many).
const LOST = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  '57P01',
  '57P02',
  '57P03',
  '53300',
]);

// Invalid password, authorisation rejected (pg_hba or no such role), no such database.
const REFUSED = new Set(['28P01', '28000', '3D000']);

/**
 * Why the catalogue could not be used, when the cause is reaching it (down, unreachable, held by
 * another process) rather than what was asked of it; undefined for every other error.
 */
export function unreachableReason(err: unknown): string | undefined {
  if (err instanceof PgbackmanError) {
    // A catalogue that answered and refused the login (password, pg_hba, no such database) is misconfigured,
    // not down: going on from a cache would hide that until the spool is full.
    const cause = (err.cause as { code?: unknown } | undefined)?.code;
    if (typeof cause === 'string' && REFUSED.has(cause)) return undefined;
    return err.code === 'CATALOGUE_UNAVAILABLE' || err.code === 'LOCKED' ? err.message : undefined;
  }
  const e = err as { code?: unknown; message?: unknown } | null;
  const message = typeof e?.message === 'string' ? e.message : String(err);
  if (typeof e?.code === 'string' && LOST.has(e.code)) return `the catalogue connection failed: ${message}`;
  if (/Connection terminated|connection is closed|Client has encountered a connection error/i.test(message))
    return `the catalogue connection failed: ${message}`;
  return undefined;
}

/** A catalogue that is not there: every statement fails with the reason, so records go to the spool. */
export function offlineCatalogue(reason: string): Queryable {
  const fail = () => Promise.reject(new PgbackmanError('CATALOGUE_UNAVAILABLE', reason));
  return { query: fail, exec: fail };
}

/** A statement the catalogue refused because of the data it was given (SQLSTATE classes 22 and 23). */
export function refusedData(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^2[23][0-9A-Z]{3}$/.test(code);
}
