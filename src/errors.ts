/** What went wrong, as a stable code scripts can match; the CLI maps codes to exit codes in one place. */
export type ErrorCode =
  | 'USAGE' // the command line itself is wrong
  | 'NOT_FOUND' // a path or object the user named does not exist
  | 'INVALID_MANIFESTS' // manifests failed validation (diagnostics already printed)
  | 'IO' // reading or writing a file failed
  | 'CATALOGUE_UNAVAILABLE' // the catalogue cannot be reached or refused the connection
  | 'NODE_UNAVAILABLE' // a PostgreSQL node to dump cannot be reached or refused the connection
  | 'CATALOGUE_SCHEMA' // the catalogue's schema is older or newer than this pgbackman
  | 'LOCKED' // another apply holds the catalogue lock
  | 'STALE_PLAN' // a saved plan no longer matches the catalogue
  | 'PLAN_REFUSED' // the plan breaks a safety rule (prevent-destroy, empty manifest set)
  | 'ABORTED' // the user did not approve
  | 'INTERNAL'; // a bug: reported with a hint to file an issue

/** The one error class commands throw for expected failures; anything else is a bug. */
export class PgbackmanError extends Error {
  override readonly name = 'PgbackmanError';
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Turns any thrown value into an Error, keeping the original as its cause. */
export function coerceError(err: unknown): Error {
  if (err instanceof Error) return err;
  return new Error(typeof err === 'string' ? err : `non-error thrown: ${String(err)}`, { cause: err });
}
