import { PgbackmanError } from '../errors.ts';
import type { CatalogueDb, Queryable } from './catalogue-db.ts';
import { latestVersion, loadMigrations } from './migrations.ts';

// Serializes migrations across processes; an arbitrary constant that spells "pgbm".
const MIGRATION_LOCK = 0x7067626d;

export interface CatalogueStatus {
  readonly location: string;
  readonly version: number;
  readonly latest: number;
  readonly pending: readonly string[];
  readonly lineage: string | null;
  readonly serial: number | null;
  readonly lastApplyAt: string | null;
}

/** Applies the pending migrations in order, each in its own transaction, one migrator at a time. */
export async function migrate(db: CatalogueDb): Promise<string[]> {
  const applied: string[] = [];
  for (const migration of loadMigrations()) {
    const done = await db.transaction(async (tx) => {
      await tx.query('select pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await tx.exec(
        'create schema if not exists pgbackman; create table if not exists pgbackman.migrations (id integer primary key, name text not null, applied_at timestamptz not null default now())',
      );
      const [row] = await tx.query<{ n: number }>(
        'select count(*)::int as n from pgbackman.migrations where id = $1',
        [migration.id],
      );
      if ((row?.n ?? 0) > 0) return false; // another migrator got here first
      await tx.exec(migration.sql);
      await tx.query('insert into pgbackman.migrations (id, name) values ($1, $2)', [
        migration.id,
        migration.name,
      ]);
      return true;
    });
    if (done) applied.push(`${String(migration.id).padStart(4, '0')}_${migration.name}`);
  }
  return applied;
}

export async function schemaVersion(q: Queryable): Promise<number> {
  const [exists] = await q.query<{ ok: boolean }>(
    "select to_regclass('pgbackman.migrations') is not null as ok",
  );
  if (!exists?.ok) return 0;
  const [row] = await q.query<{ v: number }>(
    'select coalesce(max(id), 0)::int as v from pgbackman.migrations',
  );
  return row?.v ?? 0;
}

export async function catalogueStatus(db: CatalogueDb): Promise<CatalogueStatus> {
  const version = await schemaVersion(db);
  const pending = loadMigrations()
    .filter((m) => m.id > version)
    .map((m) => `${String(m.id).padStart(4, '0')}_${m.name}`);
  const [row] =
    version > 0
      ? await db.query<{ lineage: string; serial: string; last_apply_at: Date | null }>(
          'select lineage::text, serial::text, last_apply_at from pgbackman.catalogue',
        )
      : [];
  return {
    location: db.location,
    version,
    latest: latestVersion(),
    pending,
    lineage: row?.lineage ?? null,
    serial: row === undefined ? null : Number(row.serial),
    lastApplyAt: row?.last_apply_at?.toISOString() ?? null,
  };
}

/** `apply` and the agent refuse a catalogue whose schema does not match this pgbackman. */
export async function requireCurrentSchema(db: CatalogueDb): Promise<void> {
  const version = await schemaVersion(db);
  const latest = latestVersion();
  if (version < latest) {
    const what = version === 0 ? 'has no pgbackman schema yet' : `is at schema version ${version}`;
    throw new PgbackmanError(
      'CATALOGUE_SCHEMA',
      `the catalogue at ${db.location} ${what}; this pgbackman needs version ${latest}: run \`pgbackman catalogue migrate\``,
    );
  }
  if (version > latest) {
    throw new PgbackmanError(
      'CATALOGUE_SCHEMA',
      `the catalogue at ${db.location} is at schema version ${version}, newer than this pgbackman (${latest}): upgrade pgbackman`,
    );
  }
}
