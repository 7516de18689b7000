import { readFileSync } from 'node:fs';
import pg from 'pg';
import { PgbackmanError } from '../errors.ts';
import { classifySqlError, connectionReason } from '../sqlstate.ts';
import type { CatalogueDb, Queryable } from './catalogue-db.ts';
import { type CatalogueLocation, describeLocation } from './catalogue-location.ts';

type PostgresLocation = Exclude<CatalogueLocation, { kind: 'embedded' }>;

/** Opens a PostgreSQL catalogue; connection failures become errors that say what to check. */
export async function connectPostgres(
  where: PostgresLocation | string,
  applicationName = 'pgbackman',
): Promise<CatalogueDb> {
  const { client, location } = await connectClient(where, applicationName);
  const q: Queryable = {
    async query<R extends object>(sql: string, params: readonly unknown[] = []) {
      return (await client.query(sql, params as unknown[])).rows as R[];
    },
    async exec(sql: string) {
      await client.query(sql);
    },
  };
  return {
    kind: 'postgres',
    location,
    ...q,
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      await client.query('begin');
      try {
        const result = await fn(q);
        await client.query('commit');
        return result;
      } catch (err) {
        await client.query('rollback').catch(() => undefined);
        throw err;
      }
    },
    close: () => client.end(),
  };
}

/** A connected `pg` client of its own (the agent's LISTEN), with the timeouts every catalogue connection has. */
export async function connectClient(
  where: PostgresLocation | string,
  applicationName: string,
): Promise<{ client: pg.Client; location: string }> {
  const at: PostgresLocation = typeof where === 'string' ? { kind: 'url', url: where } : where;
  const location = describeLocation(at);
  const client = new pg.Client({
    application_name: applicationName,
    connectionTimeoutMillis: 10_000,
    // No statement of ours takes minutes; a catalogue that stops answering must not hang an agent for ever.
    query_timeout: 300_000,
    keepAlive: true,
    ...(at.kind === 'url' ? { connectionString: at.url } : keywordConfig(at.params)),
  });
  // A dropped connection must not crash the process with an unhandled 'error' event.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw connectionError(location, err);
  }
  return { client, location };
}

function connectionError(location: string, err: unknown): PgbackmanError {
  const why = classifySqlError(err);
  return new PgbackmanError(
    why === 'refused' || why === 'privilege' ? 'CATALOGUE_REFUSED' : 'CATALOGUE_UNREACHABLE',
    `cannot connect to the catalogue at ${location}: ${connectionReason(err)}`,
    { cause: err },
  );
}

/** libpq keywords as pg's options; sslmode as libpq reads it, except prefer and allow, which pg cannot retry. */
function keywordConfig(p: Readonly<Record<string, string>>): pg.ClientConfig {
  const mode = p.sslmode ?? 'disable';
  const ssl =
    mode === 'require'
      ? { rejectUnauthorized: false }
      : mode === 'verify-ca' || mode === 'verify-full'
        ? {
            rejectUnauthorized: true,
            ...(p.sslrootcert === undefined ? {} : { ca: readFileSync(p.sslrootcert, 'utf8') }),
            ...(mode === 'verify-ca' ? { checkServerIdentity: () => undefined } : {}),
          }
        : false;
  const config: pg.ClientConfig = { ssl };
  if (p.host !== undefined || p.hostaddr !== undefined) config.host = p.hostaddr ?? p.host;
  if (p.port !== undefined) config.port = Number(p.port);
  if (p.dbname !== undefined) config.database = p.dbname;
  if (p.user !== undefined) config.user = p.user;
  if (p.password !== undefined) config.password = p.password;
  if (p.connect_timeout !== undefined) config.connectionTimeoutMillis = Number(p.connect_timeout) * 1000;
  return config;
}
