import pg from 'pg';
import { PgbackmanError } from '../errors.ts';
import { classifySqlError, connectionReason } from '../sqlstate.ts';
import type { CatalogueDb, Queryable } from './catalogue-db.ts';

/**
 * Connects a `pg.Client` and returns it as a CatalogueDb: a PostgreSQL catalogue, or the embedded one
 * reached through the socket its holder serves. Connection failures become errors that say what to check;
 * `close()` ends the client only.
 */
export async function connectPgClient(
  config: pg.ClientConfig,
  kind: CatalogueDb['kind'],
  location: string,
): Promise<CatalogueDb> {
  const client = await openPgClient(config, location);
  const q: Queryable = {
    async query<R extends object>(sql: string, params: readonly unknown[] = []) {
      return (await client.query(sql, params as unknown[])).rows as R[];
    },
    async exec(sql: string) {
      await client.query(sql);
    },
  };
  return {
    kind,
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
    close: () => endClient(client),
    destroy: () => destroyClient(client),
  };
}

/** The socket under a pg client, closed without a word to the server. */
function destroyClient(client: pg.Client): void {
  (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
}

/** How long a closing connection waits for the server's goodbye before its socket is simply dropped. */
const END_WAIT_MS = 2_000;

/**
 * Ends the client; a server that stopped answering (frozen, cut off) never closes its side, and pg's end()
 * would wait for it for ever: after END_WAIT_MS the socket is destroyed instead.
 */
export async function endClient(client: pg.Client): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const ended = client.end().then(() => true);
  const waited = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), END_WAIT_MS);
  });
  try {
    if (await Promise.race([ended, waited])) return;
    destroyClient(client);
    await ended.catch(() => undefined);
  } finally {
    clearTimeout(timer);
  }
}

/** A connected `pg.Client` (the agent's LISTEN uses one bare), with the timeouts every catalogue connection has. */
export async function openPgClient(config: pg.ClientConfig, location: string): Promise<pg.Client> {
  const client = new pg.Client({
    connectionTimeoutMillis: 10_000,
    // No statement of ours takes minutes; a catalogue that stops answering must not hang an agent for ever.
    query_timeout: 300_000,
    keepAlive: true,
    ...config,
  });
  // A dropped connection must not crash the process with an unhandled 'error' event.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw connectionError(location, err);
  }
  return client;
}

function connectionError(location: string, err: unknown): PgbackmanError {
  const why = classifySqlError(err);
  return new PgbackmanError(
    why === 'refused' || why === 'privilege' ? 'CATALOGUE_REFUSED' : 'CATALOGUE_UNREACHABLE',
    `cannot connect to the catalogue at ${location}: ${connectionReason(err)}`,
    { cause: err },
  );
}
