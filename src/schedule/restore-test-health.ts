/** A definition's restore tests as `status` shows them: none asked for, or OK, FAILED, OVERDUE or NEVER. */
export interface RestoreTestHealth {
  readonly state: 'OK' | 'FAILED' | 'OVERDUE' | 'NEVER';
  /** The last test (any result) and the last one that passed. */
  readonly testedAt: string | null;
  readonly verifiedAt: string | null;
}

/**
 * Pure. The last test failed: FAILED (until one passes); none yet: NEVER; none for `every` plus the grace:
 * OVERDUE; otherwise OK.
 */
export function restoreTestHealth(
  last: { readonly tested: Date | null; readonly verified: Date | null } | undefined,
  everyMs: number,
  now: Date,
  graceMs: number,
): RestoreTestHealth {
  const tested = last?.tested ?? null;
  const verified = last?.verified ?? null;
  const at = { testedAt: tested?.toISOString() ?? null, verifiedAt: verified?.toISOString() ?? null };
  if (tested === null) return { state: 'NEVER', ...at };
  if (verified === null || verified.getTime() < tested.getTime()) return { state: 'FAILED', ...at };
  if (now.getTime() - tested.getTime() > everyMs + graceMs) return { state: 'OVERDUE', ...at };
  return { state: 'OK', ...at };
}
