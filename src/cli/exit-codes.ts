import { assertNever, type ErrorCode } from '../errors.ts';

/** Every exit code pgbackman uses, chosen here and nowhere else. */
export const ExitCode = {
  /** Success; for `plan --detailed-exitcode`, success with no changes. */
  Ok: 0,
  /** Invalid input, a failed operation, or an error. */
  Failure: 1,
  /** `plan --detailed-exitcode` only: success, and there are changes. */
  Changes: 2,
  /** The command line is wrong (unknown option, missing argument, a filter value that does not exist). */
  Usage: 64,
  /** A bug in pgbackman. */
  Internal: 70,
  /** Stopped by SIGINT (128 + 2), as shells and schedulers expect. */
  Interrupted: 130,
  /** Stopped by SIGTERM (128 + 15). */
  Terminated: 143,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export function exitCodeFor(code: ErrorCode): ExitCode {
  switch (code) {
    case 'USAGE':
      return ExitCode.Usage;
    case 'NOT_FOUND':
    case 'INVALID_INPUT':
    case 'INVALID_MANIFESTS':
    case 'NO_MANIFESTS':
    case 'IO':
    case 'DISK_FULL':
    case 'UNSAFE':
    case 'CATALOGUE_UNREACHABLE':
    case 'CATALOGUE_REFUSED':
    case 'CATALOGUE_NOT_FOUND':
    case 'CATALOGUE_SCHEMA':
    case 'CATALOGUE_IN_USE':
    case 'APPLY_LOCKED':
    case 'RUN_LOCKED':
    case 'AGENT_RUNNING':
    case 'NODE_UNREACHABLE':
    case 'NODE_REFUSED':
    case 'TIMEOUT':
    case 'SOURCE_UNREACHABLE':
    case 'SOURCE_FAILED':
    case 'STORAGE_UNREACHABLE':
    case 'STORAGE_REFUSED':
    case 'DUMP_FAILED':
    case 'STALE_PLAN':
    case 'PLAN_REFUSED':
    case 'RESTORE_REFUSED':
    case 'RESTORE_FAILED':
    case 'ABORTED':
    case 'INTERRUPTED':
      return ExitCode.Failure;
    case 'INTERNAL':
      return ExitCode.Internal;
    default:
      return assertNever(code, 'error code');
  }
}

/** 128 + the signal's number, for the two signals that stop a command cleanly. */
export function exitCodeForSignal(signal: string): ExitCode {
  return signal === 'SIGINT'
    ? ExitCode.Interrupted
    : signal === 'SIGTERM'
      ? ExitCode.Terminated
      : ExitCode.Failure;
}
