import type { Verification } from '../backup/verify/verify-run.ts';
import { verifyRun } from '../backup/verify/verify-run.ts';
import type { BackupRun } from '../catalogue/backup-runs.ts';
import type { Queryable } from '../catalogue/catalogue-db.ts';
import { messageOf } from '../errors.ts';
import type { SpecOf } from '../manifest/kinds.ts';
import { withReadableDump } from './fetch-copy.ts';
import type { RemovalContext } from './remove-copies.ts';
import type { CopyCheck } from './verify-copies.ts';

/**
 * A released dump: what its copies hold; with --deep, or a key to check its plaintext with, also as a kept
 * one is checked (hashes, pg_restore's listing, the plaintext), on a copy fetched from its destinations.
 */
export async function verifyReleased(
  db: Queryable,
  b: BackupRun,
  spec: SpecOf<'BackupServer'> | undefined,
  checked: readonly CopyCheck[],
  copies: RemovalContext & { readonly deep: boolean; readonly identities?: readonly string[] },
): Promise<Verification | null> {
  const fromCopies = releasedVerification(b.id, checked);
  const identities = copies.identities ?? [];
  if (spec === undefined || fromCopies?.status !== 'OK' || (!copies.deep && identities.length === 0))
    return fromCopies;
  try {
    const whole = await withReadableDump(db, b, spec, copies, (run) => verifyRun(run, { identities }));
    return { ...whole, id: b.id, note: [fromCopies.note, whole.note].filter((n) => n !== null).join('; ') };
  } catch (err) {
    return { ...fromCopies, status: 'MISSING', error: messageOf(err), note: null };
  }
}

/**
 * A dump released from the root directory is as sound as its copies: OK when one of them checked OK (a
 * restore reads it from there), else the first copy's problem; null when none could be asked at all.
 */
export function releasedVerification(id: string, checked: readonly CopyCheck[]): Verification | null {
  const good = checked.filter((c) => c.status === 'OK').map((c) => c.destination);
  const problem = checked.find((c) => c.status === 'MISSING' || c.status === 'CORRUPT');
  if (good.length === 0 && problem === undefined && checked.length > 0) return null;
  const base = { id, unexpected: [], plaintext: null, note: null } as const;
  if (good.length > 0)
    return {
      ...base,
      status: 'OK',
      error: null,
      note: `released from the root directory: kept at ${good.join(', ')}`,
    };
  return {
    ...base,
    status: problem?.status === 'CORRUPT' ? 'CORRUPT' : 'MISSING',
    error: `released from the root directory, and no copy could be found sound: ${
      checked
        .map((c) => `${c.destination} ${c.status}${c.error === null ? '' : ` (${c.error})`}`)
        .join('; ') || 'it has no copy recorded'
    }`,
  };
}
