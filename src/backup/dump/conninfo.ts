import { readFileSync } from 'node:fs';
import { PgbackmanError } from '../../errors.ts';
import type { PgSQLNode } from '../../manifest/generated/manifest-types.ts';

/** A libpq key=value connection string; values are quoted, so a database named `a=b o'k` stays one value. */
export function conninfo(node: PgSQLNode['spec'], database: string): string {
  const parts: [string, string | number][] = [
    ['host', node.host],
    ['port', node.port ?? 5432],
    ['user', node.user ?? 'postgres'],
    ['dbname', database],
    ['sslmode', node.sslMode ?? 'prefer'],
    ['application_name', 'pgbackman'],
  ];
  return parts.map(([k, v]) => `${k}=${quote(String(v))}`).join(' ');
}

function quote(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/**
 * The environment for child processes: the password, when the node names one, goes in PGPASSWORD,
 * never on the command line where `ps` would show it.
 */
export function childEnv(node: PgSQLNode['spec'], base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  delete env.PGPASSWORD;
  const from = node.passwordFrom;
  if (from?.env !== undefined) {
    const value = base[from.env];
    if (value === undefined)
      throw new PgbackmanError(
        'NOT_FOUND',
        `the node's password variable ${from.env} is not set in this process`,
      );
    env.PGPASSWORD = value;
  } else if (from?.file !== undefined) {
    try {
      env.PGPASSWORD = readFileSync(from.file, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new PgbackmanError(
        'IO',
        `cannot read the node's password file ${from.file}: ${(err as Error).message}`,
      );
    }
  } else if (base.PGPASSWORD !== undefined) {
    env.PGPASSWORD = base.PGPASSWORD;
  }
  return env;
}
