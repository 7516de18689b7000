/** One table of a restore test: its rows when the dump was taken (an estimate) and in the restored copy. */
export interface TableCount {
  readonly table: string;
  readonly estimate: number;
  readonly restored: number | null;
}

export interface TableFindings {
  /** Tables the dump held that the restored copy lacks. */
  readonly missing: readonly string[];
  /** Tables whose restored rows are too far from the estimate recorded at dump time. */
  readonly offEstimate: readonly TableCount[];
}

/**
 * How far a restored count may be from the planner's estimate at dump time: 10 %, and at least 100 rows,
 * since reltuples is only refreshed by VACUUM and ANALYZE. An estimate of -1 (never analysed) checks nothing.
 */
export function withinEstimate(estimate: number, restored: number): boolean {
  if (estimate < 0) return true;
  return Math.abs(restored - estimate) <= Math.max(estimate * 0.1, 100);
}

/** Pure: the estimates recorded with the dump against what the restored copy holds. */
export function checkTables(
  estimates: Readonly<Record<string, number>>,
  restored: ReadonlyMap<string, number>,
): TableFindings & { readonly counts: readonly TableCount[] } {
  const counts: TableCount[] = [];
  const missing: string[] = [];
  for (const [table, estimate] of Object.entries(estimates).sort(([a], [b]) => a.localeCompare(b))) {
    const rows = restored.get(table);
    if (rows === undefined) missing.push(table);
    counts.push({ table, estimate, restored: rows ?? null });
  }
  const offEstimate = counts.filter((c) => c.restored !== null && !withinEstimate(c.estimate, c.restored));
  return { counts, missing, offEstimate };
}
