import type { PlanSummary } from '../plan/change.ts';
import type { HistoryChange } from '../reconcile/history-changes.ts';
import type { Queryable } from './catalogue-db.ts';

// Every read of apply_history (apply-plan writes its rows, one per apply, in the apply's transaction).

/** One apply, as `pgbackman history` lists it. */
export interface ApplyRecord {
  readonly serial: number;
  readonly appliedAt: string;
  /** `user@host` for the CLI, `agent SERVER@HOST` for an agent. */
  readonly appliedBy: string;
  /** `branch@sha1:<sha>[+dirty]`, `sha256:<digest>` for a watched directory, or null. */
  readonly revision: string | null;
  /** The revision's commit as git told the applier, or null (no git, an older catalogue). */
  readonly commit: { readonly author: string | null; readonly subject: string | null } | null;
  readonly summary: PlanSummary;
}

/** One apply with what it did to each object. */
export interface ApplyDetail extends ApplyRecord {
  readonly changes: readonly HistoryChange[];
}

const COLUMNS = 'serial::text, applied_at, applied_by, revision, commit_author, commit_subject, summary';

// pg parses jsonb; PGlite served over the socket may hand it over as text.
const json = (v: unknown): unknown => (typeof v === 'string' ? JSON.parse(v) : v);

function toRecord(r: Record<string, unknown>): ApplyRecord {
  const str = (v: unknown) => (v === null || v === undefined ? null : String(v));
  return {
    serial: Number(r.serial),
    appliedAt: new Date(r.applied_at as string).toISOString(),
    appliedBy: String(r.applied_by),
    revision: str(r.revision),
    commit:
      r.commit_author === null && r.commit_subject === null
        ? null
        : { author: str(r.commit_author), subject: str(r.commit_subject) },
    summary: json(r.summary) as PlanSummary,
  };
}

/** The applies, newest first: `limit` of them, since a time if given. */
export async function listApplies(
  q: Queryable,
  filter: { readonly since?: Date; readonly limit?: number } = {},
): Promise<ApplyRecord[]> {
  const params: unknown[] = [];
  let where = '';
  if (filter.since !== undefined) {
    params.push(filter.since.toISOString());
    where = `where applied_at >= $${params.length}`;
  }
  params.push(filter.limit ?? 20);
  const rows = await q.query<Record<string, unknown>>(
    `select ${COLUMNS} from pgbackman.apply_history ${where} order by serial desc limit $${params.length}`,
    params,
  );
  return rows.map(toRecord);
}

/** One apply by its serial, with its changes; undefined when there is none. */
export async function applyDetail(q: Queryable, serial: number): Promise<ApplyDetail | undefined> {
  const [row] = await q.query<Record<string, unknown>>(
    `select ${COLUMNS}, changes from pgbackman.apply_history where serial = $1`,
    [serial],
  );
  return row === undefined ? undefined : { ...toRecord(row), changes: json(row.changes) as HistoryChange[] };
}
