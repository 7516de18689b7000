import { PgbackmanError } from '../errors.ts';
import type { SpecOf } from '../manifest/kinds.ts';

/** What `--target` names: a node as a manifest would, and the password it carried (passed on in PGPASSWORD). */
export interface ConninfoTarget {
  readonly spec: SpecOf<'PgSQLNode'>;
  readonly password: string | undefined;
}

const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;

/**
 * A libpq connection string (`host=db1 port=5432 user=postgres`) or URL (`postgresql://postgres@db1:5432`)
 * for `restore --from ... --target`. Pure. Only host, port, user, password, dbname (the maintenance
 * database) and sslmode are taken; anything else is refused rather than silently ignored.
 */
export function parseConninfo(text: string): ConninfoTarget {
  if (text.trim() === '')
    throw new PgbackmanError(
      'USAGE',
      '--target is empty: give a connection string ("host=db1 port=5432 user=postgres") or a URL',
    );
  const fields = /^postgres(ql)?:\/\//.test(text) ? fromUrl(text) : fromKeywords(text);
  const allowed = new Set(['host', 'port', 'user', 'password', 'dbname', 'sslmode']);
  for (const key of Object.keys(fields))
    if (!allowed.has(key))
      throw new PgbackmanError(
        'USAGE',
        `--target: "${key}" is not supported (use host, port, user, password, dbname, sslmode)`,
      );
  const host = fields.host ?? 'localhost';
  const port = fields.port === undefined ? 5432 : Number(fields.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new PgbackmanError('USAGE', `--target: port "${fields.port}" is not a port number`);
  const sslMode = fields.sslmode;
  if (sslMode !== undefined && !(SSL_MODES as readonly string[]).includes(sslMode))
    throw new PgbackmanError('USAGE', `--target: sslmode "${sslMode}" is not one of ${SSL_MODES.join(', ')}`);
  return {
    spec: {
      host,
      port,
      ...(fields.user === undefined ? {} : { user: fields.user }),
      ...(fields.dbname === undefined ? {} : { maintenanceDatabase: fields.dbname }),
      ...(sslMode === undefined ? {} : { sslMode: sslMode as (typeof SSL_MODES)[number] }),
    },
    password: fields.password,
  };
}

function fromUrl(text: string): Record<string, string> {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new PgbackmanError('USAGE', '--target: not a valid postgresql:// URL');
  }
  const out: Record<string, string> = {};
  if (url.hostname !== '') out.host = decodeURIComponent(url.hostname.replace(/^\[|\]$/g, ''));
  if (url.port !== '') out.port = url.port;
  if (url.username !== '') out.user = decodeURIComponent(url.username);
  if (url.password !== '') out.password = decodeURIComponent(url.password);
  const db = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (db !== '') out.dbname = db;
  for (const [k, v] of url.searchParams) out[k] = v;
  return out;
}

/** `key=value key='quoted \\' value'`, as libpq reads it. */
function fromKeywords(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  const skip = () => {
    while (i < text.length && /\s/.test(text[i] as string)) i++;
  };
  for (skip(); i < text.length; skip()) {
    const key = /^[a-z_]+/.exec(text.slice(i))?.[0];
    if (key === undefined)
      throw new PgbackmanError('USAGE', `--target: expected key=value at "${text.slice(i, i + 20)}"`);
    i += key.length;
    skip();
    if (text[i] !== '=') throw new PgbackmanError('USAGE', `--target: "${key}" has no value`);
    i++;
    skip();
    let value = '';
    if (text[i] === "'") {
      for (i++; i < text.length && text[i] !== "'"; i++)
        value += text[i] === '\\' ? (text[++i] ?? '') : text[i];
      if (text[i] !== "'")
        throw new PgbackmanError('USAGE', `--target: the quoted value of "${key}" is not closed`);
      i++;
    } else
      for (; i < text.length && !/\s/.test(text[i] as string); i++)
        value += text[i] === '\\' ? (text[++i] ?? '') : text[i];
    out[key] = value;
  }
  return out;
}
