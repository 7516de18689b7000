import type pg from 'pg';
import type { TargetFacts } from './restore-steps.ts';

/** Asks the target node what a restore decides on: does the database exist, who uses it, which roles it has. */
export async function readTargetFacts(
  client: pg.Client,
  database: string,
  renameTo: string | undefined,
  neededRoles: readonly string[],
  isSource: boolean,
): Promise<TargetFacts> {
  const { rows } = await client.query<{ exists: boolean; sessions: number; taken: boolean }>(
    `select exists (select from pg_catalog.pg_database where datname = $1) as exists,
            (select count(*)::int from pg_catalog.pg_stat_activity where datname = $1 and pid <> pg_backend_pid()) as sessions,
            exists (select from pg_catalog.pg_database where datname = $2) as taken`,
    [database, renameTo ?? null],
  );
  const present = await client.query<{ rolname: string }>(
    'select rolname from pg_catalog.pg_roles where rolname = any($1::text[])',
    [neededRoles],
  );
  const have = new Set(present.rows.map((r) => r.rolname));
  const row = rows[0] as { exists: boolean; sessions: number; taken: boolean };
  return {
    exists: row.exists,
    connections: row.sessions,
    isSource,
    renameTaken: renameTo !== undefined && row.taken,
    rolesToCreate: neededRoles.filter((r) => !have.has(r)),
    rolesPresent: neededRoles.filter((r) => have.has(r)),
  };
}
