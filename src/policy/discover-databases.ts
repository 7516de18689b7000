import { childEnv } from '../backup/dump/conninfo.ts';
import { openNodeClient } from '../backup/dump/node-connection.ts';
import { coerceError, isPgbackmanError, PgbackmanError } from '../errors.ts';
import type { SpecOf } from '../manifest/kinds.ts';

export interface DiscoveryNode {
  readonly name: string;
  readonly spec: SpecOf<'PgSQLNode'>;
}

export interface Discovery {
  /** The databases of each node that answered, sorted; templates that refuse connections left out. */
  readonly databases: ReadonlyMap<string, readonly string[]>;
  /** The nodes that did not, each with why. */
  readonly failures: readonly { readonly node: string; readonly error: PgbackmanError }[];
}

export interface DiscoveryOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** The only directory passwordFrom.file may read from. */
  readonly secretsDir?: string;
  /** Nodes asked at once (default 8). */
  readonly concurrency?: number;
}

// template0 refuses connections; a database being dropped or created by CREATE DATABASE is not yet one.
const LIVE_DATABASES = 'select datname from pg_catalog.pg_database where datallowconn order by datname';

/** Lists the live databases of each node; a node that cannot be reached is a failure, never the end of the list. */
export async function discoverDatabases(
  nodes: readonly DiscoveryNode[],
  options: DiscoveryOptions = {},
): Promise<Discovery> {
  const databases = new Map<string, readonly string[]>();
  const failures: { node: string; error: PgbackmanError }[] = [];
  const queue = [...nodes];
  const worker = async () => {
    for (let node = queue.shift(); node !== undefined; node = queue.shift()) {
      try {
        databases.set(node.name, await liveDatabases(node, options));
      } catch (err) {
        failures.push({ node: node.name, error: asPgbackmanError(err) });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 8) }, worker));
  failures.sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
  return { databases, failures };
}

async function liveDatabases(node: DiscoveryNode, options: DiscoveryOptions): Promise<string[]> {
  const env = childEnv(node.spec, options.env ?? process.env, options.secretsDir);
  const client = await openNodeClient(
    node.spec,
    node.spec.maintenanceDatabase ?? 'postgres',
    env,
    'pgbackman',
  );
  try {
    const { rows } = await client.query<{ datname: string }>(LIVE_DATABASES);
    return rows.map((r) => r.datname).sort();
  } finally {
    await client.end().catch(() => undefined);
  }
}

function asPgbackmanError(err: unknown): PgbackmanError {
  if (isPgbackmanError(err)) return err;
  const e = coerceError(err);
  return new PgbackmanError('NODE_UNREACHABLE', e.message, { cause: err });
}
