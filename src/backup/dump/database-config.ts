/**
 * config.sql: what `pg_dump --create` writes about the database itself (CREATE DATABASE with its encoding and
 * locale, owner, comment, security labels, connection limit, template flag, ALTER DATABASE / ALTER ROLE … IN
 * DATABASE settings, database grants), built from one query on the connection the run already has instead of
 * a second pg_dump, which reads the whole catalogue of the database to print these few lines.
 */
import { quoteIdent as ident, quoteLiteral as literal } from '../../restore/sql-text.ts';

/** The facts config.sql is made of, as the node answers them (DATABASE_CONFIG_SQL). */
export interface DatabaseFacts {
  readonly name: string;
  /** pg_database's row, whatever columns this server version has (datlocprovider from 15, datlocale from 17). */
  readonly row: Readonly<Record<string, unknown>>;
  readonly encoding: string;
  readonly owner: string;
  readonly tablespace: string | null;
  readonly comment: string | null;
  /** [provider, label] */
  readonly labels: readonly (readonly [string, string])[] | null;
  /** [role or null for the database's own, setconfig] */
  readonly settings: readonly (readonly [string | null, readonly string[]])[] | null;
  /** What makes the default ACL the database's: [REVOKE|GRANT, grantee or null for PUBLIC, privileges, with grant option] */
  readonly acl: readonly (readonly ['REVOKE' | 'GRANT', string | null, readonly string[], boolean])[] | null;
}

/** A scalar subquery: the facts of current_database() as one jsonb (to_jsonb keeps it version-agnostic). */
export const DATABASE_FACTS_SQL = `
select jsonb_build_object(
  'name', d.datname,
  'row', to_jsonb(d) - 'datacl' - 'datfrozenxid' - 'datminmxid',
  'encoding', pg_catalog.pg_encoding_to_char(d.encoding),
  'owner', pg_catalog.pg_get_userbyid(d.datdba),
  'tablespace', (select t.spcname from pg_catalog.pg_tablespace t where t.oid = d.dattablespace and t.spcname <> 'pg_default'),
  'comment', (select c.description from pg_catalog.pg_shdescription c
               where c.objoid = d.oid and c.classoid = 'pg_catalog.pg_database'::pg_catalog.regclass),
  'labels', (select jsonb_agg(jsonb_build_array(l.provider, l.label) order by l.provider) from pg_catalog.pg_shseclabel l
              where l.objoid = d.oid and l.classoid = 'pg_catalog.pg_database'::pg_catalog.regclass),
  'settings', (select jsonb_agg(jsonb_build_array(case when s.setrole = 0 then null else pg_catalog.pg_get_userbyid(s.setrole) end, s.setconfig)
                 order by s.setrole <> 0, pg_catalog.pg_get_userbyid(s.setrole))
                from pg_catalog.pg_db_role_setting s where s.setdatabase = d.oid),
  'acl', case when d.datacl is not null then (
    select jsonb_agg(jsonb_build_array(a.kind, a.grantee, a.privileges, a.grantable) order by a.kind desc, a.grantee nulls first, a.grantable)
      from (
        select 'REVOKE' as kind, case when e.grantee = 0 then null else pg_catalog.pg_get_userbyid(e.grantee) end as grantee,
               jsonb_agg(distinct e.privilege_type) as privileges, false as grantable
          from pg_catalog.aclexplode(pg_catalog.acldefault('d', d.datdba)) e
         where not exists (select from pg_catalog.aclexplode(d.datacl) x
                            where x.grantee = e.grantee and x.privilege_type = e.privilege_type)
         group by e.grantee
        union all
        select 'GRANT', case when x.grantee = 0 then null else pg_catalog.pg_get_userbyid(x.grantee) end,
               jsonb_agg(distinct x.privilege_type), x.is_grantable
          from pg_catalog.aclexplode(d.datacl) x
         where not exists (select from pg_catalog.aclexplode(pg_catalog.acldefault('d', d.datdba)) e
                            where e.grantee = x.grantee and e.privilege_type = x.privilege_type and e.is_grantable = x.is_grantable)
         group by x.grantee, x.is_grantable
      ) a) end)
  from pg_catalog.pg_database d where d.datname = current_database()`;

// Settings whose value is a list PostgreSQL stored already quoted (guc.c's GUC_LIST_QUOTE): pg_dump splits them.
const LIST_QUOTED = new Set([
  'local_preload_libraries',
  'search_path',
  'session_preload_libraries',
  'shared_preload_libraries',
  'temp_tablespaces',
  'unix_socket_directories',
]);

const PROVIDERS: Record<string, string> = { c: 'libc', i: 'icu', b: 'builtin' };

/** Pure: config.sql's text, statements in pg_dump's order; `serverVersion` only goes into its header. */
export function renderDatabaseConfig(f: DatabaseFacts, serverVersion: string): string {
  const db = ident(f.name);
  const row = f.row;
  const str = (k: string) => (typeof row[k] === 'string' ? (row[k] as string) : null);
  let create = `CREATE DATABASE ${db} WITH TEMPLATE = template0 ENCODING = ${literal(f.encoding)}`;
  const provider = PROVIDERS[str('datlocprovider') ?? ''];
  if (provider !== undefined) create += ` LOCALE_PROVIDER = ${provider}`;
  const collate = str('datcollate');
  const ctype = str('datctype');
  if (collate !== null && collate === ctype) create += ` LOCALE = ${literal(collate)}`;
  else {
    if (collate !== null) create += ` LC_COLLATE = ${literal(collate)}`;
    if (ctype !== null) create += ` LC_CTYPE = ${literal(ctype)}`;
  }
  const providerLocale = str('daticulocale') ?? str('datlocale');
  if (provider === 'icu' && providerLocale !== null) create += ` ICU_LOCALE = ${literal(providerLocale)}`;
  if (provider === 'builtin' && providerLocale !== null)
    create += ` BUILTIN_LOCALE = ${literal(providerLocale)}`;
  const rules = str('daticurules');
  if (provider === 'icu' && rules !== null) create += ` ICU_RULES = ${literal(rules)}`;
  if (f.tablespace !== null) create += ` TABLESPACE = ${ident(f.tablespace)}`;
  const out = [`${create};`, `ALTER DATABASE ${db} OWNER TO ${ident(f.owner)};`];
  if (f.comment !== null) out.push(`COMMENT ON DATABASE ${db} IS ${literal(f.comment)};`);
  for (const [provider, label] of f.labels ?? [])
    out.push(`SECURITY LABEL FOR ${ident(provider)} ON DATABASE ${db} IS ${literal(label)};`);
  const limit = Number(row.datconnlimit ?? -1);
  if (limit !== -1) out.push(`ALTER DATABASE ${db} CONNECTION LIMIT = ${limit};`);
  if (row.datistemplate === true) out.push(`ALTER DATABASE ${db} IS_TEMPLATE = true;`);
  if (row.datallowconn === false) out.push(`ALTER DATABASE ${db} ALLOW_CONNECTIONS = false;`);
  for (const [role, config] of f.settings ?? []) {
    const prefix = role === null ? `ALTER DATABASE ${db}` : `ALTER ROLE ${ident(role)} IN DATABASE ${db}`;
    for (const item of config) out.push(`${prefix} ${setClause(item)};`);
  }
  for (const [kind, grantee, privileges, grantable] of f.acl ?? []) {
    const who = grantee === null ? 'PUBLIC' : ident(grantee);
    const what = `${privileges.join(', ')} ON DATABASE ${db}`;
    out.push(
      kind === 'REVOKE'
        ? `REVOKE ${what} FROM ${who};`
        : `GRANT ${what} TO ${who}${grantable ? ' WITH GRANT OPTION' : ''};`,
    );
  }
  const header = [
    '--',
    // No name in a comment: a database called "x<newline>DROP …" would end the comment and run as SQL under psql -f.
    `-- A database's configuration, read from PostgreSQL ${serverVersion.replace(/[^\x20-\x7e]/g, '?')} by pgbackman:`,
    '-- the statements pg_dump --create writes about the database itself.',
    '--',
    '',
    'SET standard_conforming_strings = on;',
    '',
  ];
  return `${[...header, ...out].join('\n')}\n`;
}

/** One `name=value` of setconfig as `SET name TO 'value'` (a list setting: each element its own literal). */
function setClause(item: string): string {
  const eq = item.indexOf('=');
  const name = eq < 0 ? item : item.slice(0, eq);
  const value = eq < 0 ? '' : item.slice(eq + 1);
  const key = /^[a-z_][a-z0-9_]*$/.test(name) ? name : ident(name);
  const values = LIST_QUOTED.has(name.toLowerCase()) ? splitGucList(value) : [value];
  return `SET ${key} TO ${values.map(literal).join(', ')}`;
}

/** A list setting's stored value (`"$user", public`) back to its elements, as PostgreSQL's SplitGUCList reads it. */
export function splitGucList(value: string): string[] {
  const out: string[] = [];
  let i = 0;
  const skipSpace = () => {
    while (i < value.length && /\s/.test(value[i] as string)) i++;
  };
  skipSpace();
  if (i === value.length) return out;
  for (;;) {
    let element = '';
    if (value[i] === '"') {
      i++;
      while (i < value.length) {
        if (value[i] === '"') {
          if (value[i + 1] !== '"') break;
          i++;
        }
        element += value[i];
        i++;
      }
      i++; // the closing quote
    } else {
      while (i < value.length && value[i] !== ',' && !/\s/.test(value[i] as string)) element += value[i++];
    }
    out.push(element);
    skipSpace();
    if (value[i] !== ',') return out;
    i++;
    skipSpace();
  }
}
