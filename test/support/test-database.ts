import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { connectPostgres } from '../../src/catalogue/connect-postgres.ts';
import { migrate } from '../../src/catalogue/migrate.ts';

export const TEMPLATE_DATABASE = 'pgbackman_template';

/** The server the test run uses: set by run-tests.ts (a throwaway cluster) or by the developer. */
export function testServerUrl(): string {
  const url = process.env.PGBACKMAN_TEST_PG;
  if (url === undefined || url === '') {
    throw new Error(
      'PGBACKMAN_TEST_PG is not set: run the tests with `npm test`, or point it at a PostgreSQL server',
    );
  }
  return url;
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  drop(): Promise<void>;
}

/** A fresh database per test file, cloned from the template the runner prepared (worker's pattern). */
export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const server = testServerUrl();
  const name = `pgbackman_test_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
  await withClient(server, (c) =>
    c.query(`create database ${pg.escapeIdentifier(name)} template ${TEMPLATE_DATABASE}`),
  );
  return {
    name,
    url: withDatabase(server, name),
    drop: () =>
      withClient(server, (c) =>
        c.query(`drop database if exists ${pg.escapeIdentifier(name)} with (force)`),
      ).then(() => undefined),
  };
}

export async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates the template database the per-file clones come from, with the catalogue migrated into it. */
export async function prepareTemplate(server: string): Promise<void> {
  await withClient(server, async (c) => {
    await c.query(`alter database ${TEMPLATE_DATABASE} with is_template = false`).catch(() => undefined);
    await c.query(`drop database if exists ${TEMPLATE_DATABASE}`);
    await c.query(`create database ${TEMPLATE_DATABASE}`);
  });
  const db = await connectPostgres(withDatabase(server, TEMPLATE_DATABASE));
  try {
    await migrate(db);
  } finally {
    await db.close();
  }
  await withClient(server, (c) => c.query(`alter database ${TEMPLATE_DATABASE} with is_template = true`));
}

/** An empty database (from template0) for the tests of migration itself. */
export async function createEmptyDatabase(label: string): Promise<TestDatabase> {
  const server = testServerUrl();
  const name = `pgbackman_empty_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
  await withClient(server, (c) => c.query(`create database ${pg.escapeIdentifier(name)} template template0`));
  return {
    name,
    url: withDatabase(server, name),
    drop: () =>
      withClient(server, (c) =>
        c.query(`drop database if exists ${pg.escapeIdentifier(name)} with (force)`),
      ).then(() => undefined),
  };
}

/** A database on the test server for dumps to read: dropped if it was there, created, filled by `setup`. */
export async function createSourceDatabase(
  name: string,
  setup = 'create table t as select 1 as x',
): Promise<void> {
  await withClient(testServerUrl(), async (c) => {
    await c.query(`drop database if exists ${pg.escapeIdentifier(name)} with (force)`);
    await c.query(`create database ${pg.escapeIdentifier(name)}`);
  });
  await withClient(withDatabase(testServerUrl(), name), (c) => c.query(setup));
}
