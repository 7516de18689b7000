import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import pg from 'pg';
import { assertNever, isPgbackmanError, messageOf, PgbackmanError } from '../../errors.ts';
import type { PgSQLNode } from '../../manifest/generated/manifest-types.ts';
import { classifySqlError, connectionReason, isTlsUnsupported } from '../../sqlstate.ts';

type SslMode = NonNullable<PgSQLNode['spec']['sslMode']>;

/**
 * pg's `ssl` option for a libpq sslmode. Pure but for reading sslRootCert. prefer is tried with TLS
 * first (see connectNode); allow connects without TLS, as pg cannot retry with TLS after a refusal.
 */
export function pgSslOption(node: PgSQLNode['spec']): false | ConnectionOptions {
  const mode: SslMode = node.sslMode ?? 'prefer';
  switch (mode) {
    case 'disable':
    case 'allow':
      return false;
    case 'prefer':
    case 'require':
      return { rejectUnauthorized: false };
    case 'verify-ca':
    case 'verify-full': {
      const ca = node.sslRootCert === undefined ? undefined : readRootCert(node.sslRootCert);
      return {
        rejectUnauthorized: true,
        ...(ca === undefined ? {} : { ca }),
        // verify-ca trusts any name the CA signed, as libpq does; verify-full keeps Node's host name check.
        ...(mode === 'verify-ca' ? { checkServerIdentity: () => undefined } : {}),
      };
    }
    default:
      return assertNever(mode, 'sslMode');
  }
}

function readRootCert(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new PgbackmanError('IO', `cannot read the node's sslRootCert ${path}: ${messageOf(err)}`);
  }
}

/**
 * Connects to a node as its spec says: TLS per sslMode, and a server asking for a cleartext password is
 * refused before the password leaves this process, unless the node sets allowCleartextPassword.
 */
export async function connectNode(
  node: PgSQLNode['spec'],
  config: Omit<pg.ClientConfig, 'ssl'>,
): Promise<pg.Client> {
  const ssl = pgSslOption(node);
  try {
    return await attempt(node, config, ssl);
  } catch (err) {
    // libpq's prefer: a server without TLS gets a plain connection.
    if ((node.sslMode ?? 'prefer') === 'prefer' && isTlsUnsupported(err)) return attempt(node, config, false);
    throw err;
  }
}

async function attempt(
  node: PgSQLNode['spec'],
  config: Omit<pg.ClientConfig, 'ssl'>,
  ssl: false | ConnectionOptions,
): Promise<pg.Client> {
  const client = new pg.Client({ ...config, ssl });
  client.on('error', () => undefined);
  if (node.allowCleartextPassword !== true) {
    // Registered before pg's own handler, which then asks this function instead of sending the password.
    const connection = (client as unknown as { connection: NodeJS.EventEmitter }).connection;
    connection.on('authenticationCleartextPassword', () => {
      (client as unknown as { password: () => never }).password = () => {
        throw new PgbackmanError(
          'UNSAFE',
          `${node.host}:${node.port ?? 5432} asks for the password in cleartext (pg_hba.conf method "password"); refused, the password was not sent. Change the node's pg_hba.conf to scram-sha-256, or set allowCleartextPassword: true on the PgSQLNode (only over TLS you verify)`,
        );
      };
    });
  }
  try {
    await client.connect();
    return client;
  } catch (err) {
    await client.end().catch(() => undefined);
    throw err;
  }
}

/**
 * A client on `database` of the node, as pgbackman connects everywhere: its password from `env`, ten
 * seconds to answer, and a failure said as NODE_REFUSED (credentials, privileges) or NODE_UNREACHABLE.
 */
export async function openNodeClient(
  node: PgSQLNode['spec'],
  database: string,
  env: NodeJS.ProcessEnv,
  applicationName: string,
  explain = '',
): Promise<pg.Client> {
  try {
    return await connectNode(node, {
      host: node.host,
      port: node.port ?? 5432,
      user: node.user ?? 'postgres',
      database,
      application_name: applicationName,
      connectionTimeoutMillis: 10_000,
      ...(env.PGPASSWORD === undefined ? {} : { password: env.PGPASSWORD }),
    });
  } catch (err) {
    if (isPgbackmanError(err)) throw err;
    const why = classifySqlError(err);
    throw new PgbackmanError(
      why === 'refused' || why === 'privilege' ? 'NODE_REFUSED' : 'NODE_UNREACHABLE',
      `cannot connect to ${node.host}:${node.port ?? 5432} database "${database}": ${connectionReason(err)}${explain}`,
      { cause: err },
    );
  }
}
