/**
 * What went wrong, as a stable code scripts and the agent match on; each code has one retry class
 * (RETRY below) and the CLI maps codes to exit codes in one place (cli/exit-codes.ts).
 */
export type ErrorCode =
  | 'USAGE' // the command line itself is wrong
  | 'NOT_FOUND' // a path or object the user named does not exist
  | 'INVALID_INPUT' // a value given (a filter, a file's content) is not acceptable
  | 'INVALID_MANIFESTS' // manifests failed validation (diagnostics already printed)
  | 'NO_MANIFESTS' // the paths hold no manifest files at all
  | 'IO' // reading or writing a file failed
  | 'DISK_FULL' // a file system pgbackman writes to has no space left
  | 'UNSAFE' // a manifest asks for something the agent's operator has not allowed (a secret, a tool, a path)
  | 'CATALOGUE_UNREACHABLE' // the catalogue cannot be reached (down, unknown host, connection lost)
  | 'CATALOGUE_REFUSED' // the catalogue answered and refused (login, privileges, no such database)
  | 'CATALOGUE_NOT_FOUND' // no catalogue where one was named or expected
  | 'CATALOGUE_SCHEMA' // the catalogue's schema is older or newer than this pgbackman
  | 'CATALOGUE_IN_USE' // another process holds the embedded catalogue
  | 'APPLY_LOCKED' // another apply holds the catalogue's apply lock
  | 'RUN_LOCKED' // another run of the same definition is in progress on this root
  | 'AGENT_RUNNING' // another agent of the same backup server runs on this host
  | 'NODE_UNREACHABLE' // a PostgreSQL node to dump cannot be reached
  | 'NODE_REFUSED' // a PostgreSQL node answered and refused (password, pg_hba, TLS)
  | 'TIMEOUT' // a network call or a tool took longer than allowed
  | 'SOURCE_UNREACHABLE' // the agent's git remote cannot be reached (network, DNS, refused)
  | 'SOURCE_FAILED' // git answered and failed (no such branch, authentication, not a repository)
  | 'STORAGE_UNREACHABLE' // a storage destination cannot be reached or failed for now (network, timeout, 5xx, throttling)
  | 'STORAGE_REFUSED' // a storage destination answered and refused (credentials, access denied, no such bucket)
  | 'DUMP_FAILED' // pg_dump, pg_dumpall or a capture tool exited with an error
  | 'STALE_PLAN' // a saved plan no longer matches the catalogue
  | 'PLAN_REFUSED' // the plan breaks a safety rule (prevent-destroy, empty manifest set)
  | 'RESTORE_REFUSED' // a restore would break a promise (an existing database, a dump that fails its check): nothing touched
  | 'RESTORE_FAILED' // pg_restore, psql or a statement on the target failed part-way; the message says what state it is in
  | 'ABORTED' // the user did not approve
  | 'INTERRUPTED' // stopped by a signal (SIGINT, SIGTERM)
  | 'INTERNAL'; // a bug: reported with a hint to file an issue

/** transient: the same call may succeed later (retry with backoff); terminal: it will not until something changes. */
export type RetryClass = 'transient' | 'terminal';

const RETRY: Record<ErrorCode, RetryClass> = {
  USAGE: 'terminal',
  NOT_FOUND: 'terminal',
  INVALID_INPUT: 'terminal',
  INVALID_MANIFESTS: 'terminal',
  NO_MANIFESTS: 'terminal',
  IO: 'terminal',
  DISK_FULL: 'transient',
  UNSAFE: 'terminal',
  CATALOGUE_UNREACHABLE: 'transient',
  CATALOGUE_REFUSED: 'terminal',
  CATALOGUE_NOT_FOUND: 'terminal',
  CATALOGUE_SCHEMA: 'terminal',
  CATALOGUE_IN_USE: 'transient',
  APPLY_LOCKED: 'transient',
  RUN_LOCKED: 'transient',
  AGENT_RUNNING: 'terminal',
  NODE_UNREACHABLE: 'transient',
  NODE_REFUSED: 'terminal',
  TIMEOUT: 'transient',
  SOURCE_UNREACHABLE: 'transient',
  SOURCE_FAILED: 'terminal',
  // Most often a lock not granted or a connection lost mid-way; the tool's log says which.
  STORAGE_UNREACHABLE: 'transient',
  STORAGE_REFUSED: 'terminal',
  DUMP_FAILED: 'transient',
  STALE_PLAN: 'terminal',
  PLAN_REFUSED: 'terminal',
  RESTORE_REFUSED: 'terminal',
  RESTORE_FAILED: 'terminal',
  ABORTED: 'terminal',
  INTERRUPTED: 'terminal',
  INTERNAL: 'terminal',
};

export const ERROR_CODES = Object.keys(RETRY) as readonly ErrorCode[];

export function retryClassOf(code: ErrorCode): RetryClass {
  return RETRY[code];
}

/** The one error class for expected failures; anything else reaching the CLI is a bug. */
export class PgbackmanError extends Error {
  override readonly name = 'PgbackmanError';
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  /** Whether the reconcile loop and the scheduler should try again later. */
  get retry(): RetryClass {
    return RETRY[this.code];
  }
}

export function isPgbackmanError(err: unknown, code?: ErrorCode): err is PgbackmanError {
  return err instanceof PgbackmanError && (code === undefined || err.code === code);
}

/** Turns any thrown value into an Error, keeping the original as its cause. */
export function coerceError(err: unknown): Error & { code?: unknown } {
  if (err instanceof Error) return err;
  if (typeof err === 'object' && err !== null && typeof (err as { message?: unknown }).message === 'string') {
    const e = new Error((err as { message: string }).message, { cause: err }) as Error & { code?: unknown };
    e.code = (err as { code?: unknown }).code;
    return e;
  }
  return new Error(typeof err === 'string' ? err : `non-error thrown: ${String(err)}`, { cause: err });
}

/** The message of any thrown value, for a log line or a record. */
export function messageOf(err: unknown): string {
  return coerceError(err).message;
}

/** Ends every exhaustive switch: a new member of a union fails to compile until it is handled. */
export function assertNever(value: never, what = 'value'): never {
  throw new Error(`unhandled ${what}: ${JSON.stringify(value)}`);
}
