import { readFileSync } from 'node:fs';
import type pg from 'pg';
import type { CatalogueDb } from './catalogue-db.ts';
import { type CatalogueLocation, describeLocation } from './catalogue-location.ts';
import { connectPgClient, openPgClient } from './pg-client-catalogue.ts';

type PostgresLocation = Exclude<CatalogueLocation, { kind: 'embedded' }>;

/** Opens a PostgreSQL catalogue; connection failures become errors that say what to check. */
export async function connectPostgres(
  where: PostgresLocation | string,
  applicationName = 'pgbackman',
  timeoutMs?: number,
): Promise<CatalogueDb> {
  const { config, location } = configOf(where, applicationName);
  if (timeoutMs !== undefined) {
    config.connectionTimeoutMillis = Math.min(timeoutMs, config.connectionTimeoutMillis ?? timeoutMs);
    config.query_timeout = timeoutMs;
  }
  return connectPgClient(config, 'postgres', location);
}

/** A bare connected client of a PostgreSQL catalogue: the agent's LISTEN. */
export async function connectClient(
  where: PostgresLocation | string,
  applicationName: string,
): Promise<{ client: pg.Client; location: string }> {
  const { config, location } = configOf(where, applicationName);
  return { client: await openPgClient(config, location), location };
}

function configOf(where: PostgresLocation | string, applicationName: string) {
  const at: PostgresLocation = typeof where === 'string' ? { kind: 'url', url: where } : where;
  const config: pg.ClientConfig = {
    application_name: applicationName,
    // A catalogue that vanishes without a word (a cut network, a host gone) is noticed, not waited on forever.
    keepAlive: true,
    keepAliveInitialDelayMillis: 30_000,
    connectionTimeoutMillis: 30_000,
    ...(at.kind === 'url' ? { connectionString: at.url } : keywordConfig(at.params)),
  };
  return { config, location: describeLocation(at) };
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
