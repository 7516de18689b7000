import type { BackupRun } from '../catalogue/backup-runs.ts';

// How a dump's state reads in tables, in describe and in what pin and unpin print.

type Run = Pick<
  BackupRun,
  | 'id'
  | 'status'
  | 'definition'
  | 'snapshot'
  | 'startedAt'
  | 'pin'
  | 'deletion'
  | 'deletedAt'
  | 'deletedReason'
>;

/** STATUS in `get backups`: the deletion step once retention has started one, else the run's status. */
export function runStateText(b: Run): string {
  if (b.deletion !== null) return b.deletion;
  return b.pin === null ? b.status : `${b.status} (pinned)`;
}

/** `1b2c…-… (BackupDefinition/shop, 2026-11-30 02:00Z)`: which dump, in the words `get backups` uses. */
export function runLabel(b: Run): string {
  const owner =
    b.definition === null ? `SnapshotDefinition/${b.snapshot}` : `BackupDefinition/${b.definition}`;
  return `${b.id} (${owner}, ${b.startedAt.slice(0, 16).replace('T', ' ')}Z)`;
}

/** `by alice@backup01 at 2026-11-30T09:12:00.000Z (quarterly audit)`, or null when not pinned. */
export function pinText(b: Run): string | null {
  if (b.pin === null) return null;
  return `by ${b.pin.by} at ${b.pin.at}${b.pin.reason === null ? '' : ` (${b.pin.reason})`}`;
}

/** `DELETING (expired: older than 14d)` or `DELETED at … (…)`, or null for a dump that is there. */
export function deletionText(b: Run): string | null {
  if (b.deletion === null) return null;
  const at = b.deletion === 'DELETED' && b.deletedAt !== null ? ` at ${b.deletedAt}` : '';
  return `${b.deletion}${at}${b.deletedReason === null ? '' : ` (${b.deletedReason})`}`;
}
