import { PgbackmanError } from '../../errors.ts';
import type { PgSQLNode } from '../../manifest/generated/manifest-types.ts';
import { DEFAULT_SECRETS_DIR, readPasswordFile } from './read-password-file.ts';

/** The only variables a manifest's passwordFrom.env may name: the operator decides which exist. */
export const SECRET_VARIABLE = /^PGBACKMAN_SECRET_[A-Za-z0-9_]{1,111}$/;

export interface ConninfoOptions {
  /** The major version of the libpq the tool is linked with: from 16 on, require_auth refuses cleartext. */
  readonly libpqMajor?: number;
  /** Seconds libpq waits for the connection (a host that accepts and never answers); 30 by default. */
  readonly connectTimeoutS?: number;
}

/** A libpq key=value connection string; values are quoted, so a database named `a=b o'k` stays one value. */
export function conninfo(node: PgSQLNode['spec'], database: string, options: ConninfoOptions = {}): string {
  const parts: [string, string | number][] = [
    ['host', node.host],
    ['port', node.port ?? 5432],
    ['user', node.user ?? 'postgres'],
    ['dbname', database],
    ['sslmode', node.sslMode ?? 'prefer'],
    ['application_name', 'pgbackman'],
    // A node that never answers fails the run instead of hanging it (and every later run of it, as overlapping);
    // a connection whose peer vanished (a cut network) is noticed in about two minutes of silence.
    ['connect_timeout', options.connectTimeoutS ?? 30],
    ['keepalives', 1],
    ['keepalives_idle', 60],
    ['keepalives_interval', 10],
    ['keepalives_count', 6],
  ];
  if (node.sslRootCert !== undefined) parts.push(['sslrootcert', node.sslRootCert]);
  if (node.allowCleartextPassword !== true && (options.libpqMajor ?? 0) >= 16)
    parts.push(['require_auth', '!password']);
  return parts.map(([k, v]) => `${k}=${quote(String(v))}`).join(' ');
}

function quote(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/**
 * The environment for child processes: the password, when the node names one, goes in PGPASSWORD,
 * never on the command line where `ps` would show it.
 */
const TOOL_HIDDEN =
  /^(PGBACKMAN_SECRET_.*|PGBACKMAN_AGE_IDENTITY|PGBACKMAN_SMTP_PASSWORD|PGBACKMAN_STATUS_TOKEN|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN)$/;

export function childEnv(
  node: PgSQLNode['spec'],
  base: NodeJS.ProcessEnv = process.env,
  secretsDir = DEFAULT_SECRETS_DIR,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  delete env.PGPASSWORD;
  // The tools need one password at most: the agent's other secrets (every node's, the stores' keys, the age
  // identities that open every dump) are not handed to pg_dump, psql or pg_restore.
  for (const name of Object.keys(env)) if (TOOL_HIDDEN.test(name)) delete env[name];
  const from = node.passwordFrom;
  if (from?.env !== undefined) {
    if (!SECRET_VARIABLE.test(from.env))
      throw new PgbackmanError(
        'UNSAFE',
        `refusing the node's password variable ${from.env}: passwordFrom.env may only name variables called PGBACKMAN_SECRET_<NAME>; rename it, and set that variable in the agent's environment`,
      );
    const value = base[from.env];
    if (value === undefined)
      throw new PgbackmanError(
        'NOT_FOUND',
        `the node's password variable ${from.env} is not set in this process`,
      );
    env.PGPASSWORD = value;
  } else if (from?.file !== undefined) {
    env.PGPASSWORD = readPasswordFile(from.file, secretsDir);
  } else if (base.PGPASSWORD !== undefined) {
    env.PGPASSWORD = base.PGPASSWORD;
  }
  return env;
}
