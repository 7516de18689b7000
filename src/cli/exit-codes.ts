import type { ErrorCode } from '../errors.ts';

/** Every exit code pgbackman uses, chosen here and nowhere else. */
export const ExitCode = {
  /** Success; for `plan --detailed-exitcode`, success with no changes. */
  Ok: 0,
  /** Invalid input, a failed operation, or an error. */
  Failure: 1,
  /** `plan --detailed-exitcode` only: success, and there are changes. */
  Changes: 2,
  /** The command line is wrong (unknown option, missing argument). */
  Usage: 64,
  /** A bug in pgbackman. */
  Internal: 70,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export function exitCodeFor(code: ErrorCode): ExitCode {
  switch (code) {
    case 'USAGE':
      return ExitCode.Usage;
    case 'NOT_FOUND':
    case 'INVALID_MANIFESTS':
    case 'IO':
    case 'CATALOGUE_UNAVAILABLE':
    case 'NODE_UNAVAILABLE':
    case 'CATALOGUE_SCHEMA':
    case 'LOCKED':
    case 'STALE_PLAN':
    case 'PLAN_REFUSED':
    case 'ABORTED':
      return ExitCode.Failure;
    case 'INTERNAL':
      return ExitCode.Internal;
    default:
      return assertNever(code);
  }
}

function assertNever(value: never): never {
  throw new Error(`unhandled error code: ${String(value)}`);
}
