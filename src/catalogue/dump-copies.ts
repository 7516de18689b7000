import type { Queryable } from './catalogue-db.ts';

// Every statement on pgbackman.dump_copies: a copy's outcome, and the copies of the runs a command shows.

export interface CopiedFile {
  readonly bytes: number;
  readonly sha256: string;
  readonly etag: string | null;
  readonly versionId: string | null;
}

export interface DumpCopy {
  readonly runId: string;
  readonly destination: string;
  readonly kind: 'local' | 's3';
  /** Where the dump's folder is there: a directory, or `s3://bucket/prefix/… at endpoint`. */
  readonly location: string;
  /** DELETED: retention removed its files there. */
  readonly status: 'COPIED' | 'FAILED' | 'DELETED';
  readonly bytes: number | null;
  /** Each file of the dump folder, by its path inside it. */
  readonly files: Readonly<Record<string, CopiedFile>> | null;
  readonly error: string | null;
  readonly finishedAt: string;
}

/** What a run's copies lack, as its error says it: each failed destination and why; null when none failed. */
export function missingCopies(copies: readonly DumpCopy[]): string | null {
  const failed = copies.filter((c) => c.status === 'FAILED');
  return failed.length === 0
    ? null
    : failed.map((c) => `not copied to ${c.destination}: ${c.error}`).join('; ');
}

/** What a good dump's record says before its copies are made (or when they never were): each destination owed. */
export function pendingCopies(destinations: readonly string[]): string {
  return destinations.map((d) => `not copied to ${d}: not tried yet`).join('; ');
}

/** Records a copy's outcome; a later attempt at the same destination replaces it. */
export async function recordCopy(q: Queryable, c: DumpCopy): Promise<void> {
  await q.query(
    `insert into pgbackman.dump_copies (run_id, destination, kind, location, status, bytes, files, error, finished_at)
     values ($1::uuid, $2, $3, $4, $5, $6, $7::jsonb, $8, $9::timestamptz)
     on conflict (run_id, destination) do update set kind = excluded.kind, location = excluded.location,
       status = excluded.status, bytes = excluded.bytes, files = excluded.files, error = excluded.error,
       finished_at = excluded.finished_at`,
    [
      c.runId,
      c.destination,
      c.kind,
      c.location,
      c.status,
      c.bytes,
      c.files === null ? null : JSON.stringify(c.files),
      c.error,
      c.finishedAt,
    ],
  );
}

interface Row {
  run_id: string;
  destination: string;
  kind: 'local' | 's3';
  location: string;
  status: DumpCopy['status'];
  bytes: string | null;
  files: unknown;
  error: string | null;
  finished_at: Date | string;
}

/** A copy whose files retention removed from its destination. */
export async function markCopyDeleted(q: Queryable, runId: string, destination: string): Promise<void> {
  await q.query(
    `update pgbackman.dump_copies set status = 'DELETED', error = null, finished_at = now()
      where run_id = $1::uuid and destination = $2`,
    [runId, destination],
  );
}

/** Why a copy's files are still there after its dump was deleted (its destination down, or no longer listed). */
export async function noteCopyLeft(
  q: Queryable,
  runId: string,
  destination: string,
  why: string,
): Promise<void> {
  await q.query('update pgbackman.dump_copies set error = $3 where run_id = $1::uuid and destination = $2', [
    runId,
    destination,
    why,
  ]);
}

/** Deleted dumps of `server` whose copies still hold files (retention could not reach them then): the oldest first. */
export async function leftoverCopies(q: Queryable, server: string, limit: number): Promise<string[]> {
  const rows = await q.query<{ id: string }>(
    `select distinct r.id::text as id, r.deleted_at from pgbackman.backup_runs r
       join pgbackman.dump_copies c on c.run_id = r.id
      where r.server = $1 and r.deletion = 'DELETED' and c.status <> 'DELETED' and c.files is not null
      order by r.deleted_at limit $2`,
    [server, limit],
  );
  return rows.map((r) => r.id);
}

/** The copies of the given runs, by run, in destination order of name. */
export async function copiesOf(q: Queryable, runIds: readonly string[]): Promise<Map<string, DumpCopy[]>> {
  const byRun = new Map<string, DumpCopy[]>();
  if (runIds.length === 0) return byRun;
  const rows = await q.query<Row>(
    `select run_id::text, destination, kind, location, status, bytes::text, files, error, finished_at
       from pgbackman.dump_copies where run_id = any($1::uuid[]) order by run_id, destination`,
    [runIds],
  );
  for (const r of rows) {
    const copy: DumpCopy = {
      runId: r.run_id,
      destination: r.destination,
      kind: r.kind,
      location: r.location,
      status: r.status,
      bytes: r.bytes === null ? null : Number(r.bytes),
      files: (typeof r.files === 'string' ? JSON.parse(r.files) : r.files) as DumpCopy['files'],
      error: r.error,
      finishedAt: new Date(r.finished_at).toISOString(),
    };
    byRun.set(r.run_id, [...(byRun.get(r.run_id) ?? []), copy]);
  }
  return byRun;
}
