import { messageOf, PgbackmanError } from '../errors.ts';
import { classifySqlError } from '../sqlstate.ts';
import type { Queryable } from './catalogue-db.ts';

/**
 * Why the catalogue could not be used, when the cause is reaching it (down, unreachable, held by
 * another process) rather than what was asked of it; undefined for every other error.
 */
export function unreachableReason(err: unknown): string | undefined {
  if (err instanceof PgbackmanError) {
    // A catalogue that answered and refused the login (password, pg_hba, no such database) is misconfigured,
    // not down: going on from a cache would hide that until the spool is full.
    if (err.cause !== undefined && classifySqlError(err.cause) === 'refused') return undefined;
    return err.code === 'CATALOGUE_UNREACHABLE' || err.code === 'CATALOGUE_IN_USE' ? err.message : undefined;
  }
  if (classifySqlError(err) === 'lost') return `the catalogue connection failed: ${messageOf(err)}`;
  return undefined;
}

/** A catalogue that is not there: every statement fails with the reason, so records go to the spool. */
export function offlineCatalogue(reason: string): Queryable {
  const fail = () => Promise.reject(new PgbackmanError('CATALOGUE_UNREACHABLE', reason));
  return { query: fail, exec: fail };
}
