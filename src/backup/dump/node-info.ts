import type pg from 'pg';
import { endClient } from '../../catalogue/pg-client-catalogue.ts';
import { PgbackmanError } from '../../errors.ts';
import type { PgSQLNode } from '../../manifest/generated/manifest-types.ts';
import { DATABASE_FACTS_SQL, type DatabaseFacts } from './database-config.ts';
import { openNodeClient } from './node-connection.ts';

/** How long the node may take to answer the run's one question (a large catalogue takes seconds). */
export const NODE_INFO_TIMEOUT_MS = 60_000;

export interface NodeInfo {
  readonly serverVersion: string;
  readonly serverMajor: number;
  /** The database's size when the dump started, or null for a CLUSTER dump. */
  readonly databaseBytes: number | null;
  /** The roles the database needs: owners, grantees, policy roles, role settings, and what they are members of. */
  readonly roles: readonly string[];
  /** Databases pg_dumpall would dump whose names hold a newline or carriage return, which it refuses. */
  readonly newlineDatabases: readonly string[];
  /** Each user table's estimated rows (`schema.table` → rows; -1 when never analysed), for restore tests. */
  readonly tables: Readonly<Record<string, number>>;
  /** The cluster's pg_control system identifier: which cluster a dump came from, whatever its host name. */
  readonly systemIdentifier: string | null;
  /** What config.sql says about the database asked (null if the node did not answer it). */
  readonly databaseFacts: DatabaseFacts | null;
}

// design.md §9: pg_shdepend knows every role a database's objects depend on.
const ROLES_SQL = `
with recursive direct(oid) as (
  select refobjid from pg_catalog.pg_shdepend
   where refclassid = 'pg_catalog.pg_authid'::regclass
     and dbid = (select oid from pg_catalog.pg_database where datname = current_database())
  union select datdba from pg_catalog.pg_database where datname = current_database()
  union select (pg_catalog.aclexplode(datacl)).grantee from pg_catalog.pg_database where datname = current_database()
  union select setrole from pg_catalog.pg_db_role_setting
   where setdatabase = (select oid from pg_catalog.pg_database where datname = current_database())
), closure(oid) as (
  select oid from direct
  union select m.roleid from pg_catalog.pg_auth_members m join closure c on m.member = c.oid
)
select rolname from pg_catalog.pg_roles
 where oid in (select oid from closure) and rolname !~ '^pg_'
 order by rolname`;

/** Asks the node what the dump needs to know: its version, the database's size, the roles it uses, its configuration. */
export async function readNodeInfo(
  node: PgSQLNode['spec'],
  database: string,
  env: NodeJS.ProcessEnv,
  options: {
    /** Whether to read the database's configuration (config.sql): not for a CLUSTER dump. */
    readonly facts?: boolean;
    readonly timeoutMs?: number;
  } = {},
): Promise<NodeInfo> {
  const timeoutMs = options.timeoutMs ?? NODE_INFO_TIMEOUT_MS;
  const client = await openNodeClient(node, database, env, 'pgbackman');
  try {
    // One round trip: this sits on every run's critical path.
    const [row] = (
      await client
        .query<{
          num: string;
          text: string;
          bytes: string;
          roles: string[] | null;
          newline: string[] | null;
          tables: Record<string, number> | null;
          sysid: string | null;
          facts: DatabaseFacts | null;
        }>({
          text: `select current_setting('server_version_num') as num, current_setting('server_version') as text,
                pg_catalog.pg_database_size(current_database())::text as bytes,
                (select array_agg(rolname::text order by rolname) from (${ROLES_SQL}) r) as roles,
                (select array_agg(datname::text order by datname) from pg_catalog.pg_database
                  where datallowconn and datname ~ '[\\n\\r]') as newline,
                (select json_object_agg(quote_ident(n.nspname) || '.' || quote_ident(c.relname), c.reltuples::bigint)
                   from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
                  where c.relkind in ('r', 'p') and n.nspname <> 'information_schema' and n.nspname !~ '^pg_') as tables,
                (select system_identifier::text from pg_catalog.pg_control_system()) as sysid,
                ${options.facts === false ? 'null::jsonb' : `(${DATABASE_FACTS_SQL})`} as facts`,
          query_timeout: timeoutMs,
        } as pg.QueryConfig)
        .catch((err: unknown) => {
          // A node that connected and then stopped answering fails the run, which is recorded, instead of hanging it.
          if (err instanceof Error && err.message === 'Query read timeout')
            throw new PgbackmanError(
              'NODE_UNREACHABLE',
              `${node.host}:${node.port ?? 5432} did not answer within ${Math.round(timeoutMs / 1000)} s`,
              { cause: err },
            );
          throw err;
        })
    ).rows;
    return {
      serverVersion: row?.text ?? '',
      serverMajor: Math.floor(Number(row?.num) / 10000),
      databaseBytes: Number(row?.bytes),
      roles: row?.roles ?? [],
      newlineDatabases: row?.newline ?? [],
      tables: row?.tables ?? {},
      systemIdentifier: row?.sysid ?? null,
      databaseFacts: row?.facts ?? null,
    };
  } finally {
    // Not waited for: the goodbye (3-4 ms) would sit on the run's critical path; endClient bounds it anyway.
    void endClient(client).catch(() => undefined);
  }
}
