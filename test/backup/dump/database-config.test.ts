import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import pg from 'pg';
import {
  type DatabaseFacts,
  renderDatabaseConfig,
  splitGucList,
} from '../../../src/backup/dump/database-config.ts';
import { readNodeInfo } from '../../../src/backup/dump/node-info.ts';
import { readDatabaseConfig } from '../../../src/restore/config-file.ts';
import { splitStatements } from '../../../src/restore/sql-text.ts';
import { withClient, withDatabase } from '../../support/test-database.ts';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../../support/throwaway-postgres.ts';

const run = promisify(execFile);

const FACTS: DatabaseFacts = {
  name: 'Shop DB',
  row: { datcollate: 'C', datctype: 'C', datconnlimit: -1, datistemplate: false, datallowconn: true },
  encoding: 'UTF8',
  owner: 'app',
  tablespace: null,
  comment: null,
  labels: null,
  settings: null,
  acl: null,
};

describe('config.sql, from what the node says about the database (pure)', () => {
  const statements = (f: DatabaseFacts) =>
    renderDatabaseConfig(f, '15.18')
      .split('\n')
      .filter((l) => /^[A-Z]/.test(l) && !l.startsWith('SET '));

  test('a plain database: CREATE DATABASE with its encoding and locale, then its owner', () => {
    assert.deepEqual(statements(FACTS), [
      `CREATE DATABASE "Shop DB" WITH TEMPLATE = template0 ENCODING = 'UTF8' LOCALE = 'C';`,
      'ALTER DATABASE "Shop DB" OWNER TO "app";',
    ]);
    assert.match(
      renderDatabaseConfig(FACTS, '15.18'),
      /^--\n-- A database's configuration, read from PostgreSQL 15\.18/,
    );
  });

  for (const [what, row, tablespace, create] of [
    [
      'collation and ctype apart',
      { datcollate: 'C', datctype: 'C.utf8' },
      null,
      `LC_COLLATE = 'C' LC_CTYPE = 'C.utf8'`,
    ],
    [
      'libc (15+)',
      { datlocprovider: 'c', datcollate: 'C', datctype: 'C' },
      null,
      `LOCALE_PROVIDER = libc LOCALE = 'C'`,
    ],
    [
      'ICU (15, 16)',
      { datlocprovider: 'i', datcollate: 'C', datctype: 'C', daticulocale: 'en-US', daticurules: '&a < b' },
      null,
      `LOCALE_PROVIDER = icu LOCALE = 'C' ICU_LOCALE = 'en-US' ICU_RULES = '&a < b'`,
    ],
    [
      'ICU (17+)',
      { datlocprovider: 'i', datcollate: 'C', datctype: 'C', datlocale: 'de' },
      null,
      `LOCALE_PROVIDER = icu LOCALE = 'C' ICU_LOCALE = 'de'`,
    ],
    [
      'builtin (17+)',
      { datlocprovider: 'b', datcollate: 'C', datctype: 'C', datlocale: 'C.UTF-8' },
      null,
      `LOCALE_PROVIDER = builtin LOCALE = 'C' BUILTIN_LOCALE = 'C.UTF-8'`,
    ],
    [
      'a tablespace',
      { datcollate: 'C', datctype: 'C' },
      'fast "ssd"',
      `LOCALE = 'C' TABLESPACE = "fast ""ssd"""`,
    ],
  ] as const) {
    test(`locale and storage: ${what}`, () => {
      assert.equal(
        statements({ ...FACTS, row, tablespace })[0],
        `CREATE DATABASE "Shop DB" WITH TEMPLATE = template0 ENCODING = 'UTF8' ${create};`,
      );
    });
  }

  test('properties, settings and grants in pg_dump’s order; names quoted, values literal', () => {
    const got = statements({
      ...FACTS,
      row: { datcollate: 'C', datctype: 'C', datconnlimit: 3, datistemplate: true },
      comment: "it's\nhere; really",
      labels: [['selinux', 'system_u:object_r:sepgsql_db_t:s0']],
      settings: [
        [null, ['search_path="$user", public, "a ""b"""', 'pg_stat_statements.track=all', "x.y=it's"]],
        ['Reader', ['work_mem=16MB']],
      ],
      acl: [
        ['REVOKE', null, ['TEMPORARY'], false],
        ['GRANT', 'Writer', ['CREATE', 'TEMPORARY'], true],
      ],
    }).slice(1);
    assert.deepEqual(got, [
      'ALTER DATABASE "Shop DB" OWNER TO "app";',
      `COMMENT ON DATABASE "Shop DB" IS 'it''s`,
      `SECURITY LABEL FOR "selinux" ON DATABASE "Shop DB" IS 'system_u:object_r:sepgsql_db_t:s0';`,
      'ALTER DATABASE "Shop DB" CONNECTION LIMIT = 3;',
      'ALTER DATABASE "Shop DB" IS_TEMPLATE = true;',
      `ALTER DATABASE "Shop DB" SET search_path TO '$user', 'public', 'a "b"';`,
      `ALTER DATABASE "Shop DB" SET "pg_stat_statements.track" TO 'all';`,
      `ALTER DATABASE "Shop DB" SET "x.y" TO 'it''s';`,
      `ALTER ROLE "Reader" IN DATABASE "Shop DB" SET work_mem TO '16MB';`,
      'REVOKE TEMPORARY ON DATABASE "Shop DB" FROM PUBLIC;',
      'GRANT CREATE, TEMPORARY ON DATABASE "Shop DB" TO "Writer" WITH GRANT OPTION;',
    ]);
  });

  test('names and values from the node never become statements of their own, under psql -f either', () => {
    const hostile = "x\nDROP DATABASE victim; --\r\n\\! touch /tmp/owned\n'; DROP ROLE r; --";
    const text = renderDatabaseConfig(
      {
        ...FACTS,
        name: hostile,
        owner: hostile,
        comment: hostile,
        settings: [[hostile, [`search_path=${hostile}`, `work_mem=${hostile}`]]],
        acl: [['GRANT', hostile, ['CONNECT'], false]],
      },
      `15.18\nDROP DATABASE victim;`,
    );
    const statements = splitStatements(text);
    assert.ok(statements.length > 0);
    for (const st of statements)
      assert.match(st, /^(SET standard_conforming_strings|CREATE DATABASE|ALTER|COMMENT|GRANT)/);
    // The header's lines stay comments: a newline from the node cannot end one.
    for (const line of text.split('\n').slice(0, 6))
      assert.match(line, /^(--.*|SET standard_conforming_strings = on;|)$/);
  });

  test('a list setting is split as PostgreSQL stored it', () => {
    for (const [stored, elements] of [
      ['"$user", public', ['$user', 'public']],
      ['""', ['']],
      ['', []],
      ['  a ,b,"c,d" ', ['a', 'b', 'c,d']],
      ['"x""y"', ['x"y']],
    ] as const)
      assert.deepEqual(splitGucList(stored), elements, stored);
  });
});

// What a restore must reproduce, read independently of the module under test.
const FINGERPRINT = `
select pg_encoding_to_char(d.encoding) as encoding, d.datcollate, d.datctype, d.datlocprovider, d.daticulocale,
       pg_get_userbyid(d.datdba) as owner, d.datconnlimit, d.datistemplate,
       (select spcname from pg_tablespace t where t.oid = d.dattablespace) as tablespace,
       shobj_description(d.oid, 'pg_database') as comment,
       (select array_agg(x order by x) from (select coalesce(pg_get_userbyid(nullif(s.setrole, 0)), '*') || ' ' ||
               array_to_string(s.setconfig, '|') as x from pg_db_role_setting s where s.setdatabase = d.oid) s) as settings,
       (select array_agg(x order by x) from (select coalesce(pg_get_userbyid(nullif(a.grantee, 0)), 'PUBLIC') || ' ' ||
               a.privilege_type || case when a.is_grantable then '*' else '' end as x
          from aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a) a) as acl
  from pg_database d where d.datname = $1`;

describe('config.sql against a real cluster: a restore from it is the database pg_dump --create would make', () => {
  let node: ThrowawayPostgres;
  const SOURCE = 'Shop "DB"';
  before(async () => {
    node = await startThrowawayPostgres('database-config');
    const space = join(node.dir, 'space');
    await mkdir(space);
    await run('chown', ['postgres:postgres', space]).catch(() => undefined);
    const db = pg.escapeIdentifier(SOURCE);
    await withClient(node.url, async (c) => {
      for (const sql of [
        `create role app`,
        `create role "Reader"`,
        `create role "Writer ""w"""`,
        `create tablespace "fast space" location '${space}'`,
        `create database ${db} owner app template template0 encoding 'UTF8' lc_collate 'C' lc_ctype 'C.utf8'
           tablespace "fast space" connection limit 9`,
        `alter database ${db} set search_path = "$user", public, "we ird"`,
        `alter database ${db} set work_mem = '8MB'`,
        `alter database ${db} set "pg_stat_statements.track" = 'all'`,
        `alter database ${db} set application_name = 'it''s \\ here'`,
        `alter role "Reader" in database ${db} set statement_timeout = '7s'`,
        `comment on database ${db} is 'two
lines; it''s'`,
        `revoke temporary on database ${db} from public`,
        `revoke connect on database ${db} from app`,
        `grant connect on database ${db} to "Reader"`,
        `grant create, temporary on database ${db} to "Writer ""w""" with grant option`,
        `create database icu template template0 encoding 'UTF8' locale_provider icu icu_locale 'en-US' locale 'C'`,
        `alter database icu is_template true`,
      ])
        await c.query(sql);
    });
  });
  after(async () => {
    await node?.stop();
  });

  /** Creates `target` from a config.sql as a restore does: rewritten for it, CREATE DATABASE first. */
  async function restoreConfig(sql: string, source: string, target: string) {
    await withClient(node.url, async (c) => {
      for (const statement of readDatabaseConfig(sql, source, target).statements) await c.query(statement);
    });
  }
  const fingerprint = (database: string) =>
    withClient(node.url, async (c) => (await c.query(FINGERPRINT, [database])).rows[0]);
  const nodeSpec = () =>
    ({ host: '127.0.0.1', port: node.port, user: 'postgres', sslMode: 'disable' }) as never;
  async function pgDumpCreate(database: string): Promise<string> {
    const { stdout } = await run(join(node.binDir, 'pg_dump'), [
      '--dbname',
      withDatabase(node.url, database),
      '--create',
      '--schema-only',
      '--schema=pg_toast',
    ]);
    return stdout;
  }

  test('a database named to break out of a comment: its config.sql under psql -f runs only its own statements', async () => {
    const hostile = 'x\nDROP DATABASE victim; --';
    await withClient(node.url, async (c) => {
      await c.query('create database victim');
      await c.query(`create database ${pg.escapeIdentifier(hostile)}`);
    });
    const info = await readNodeInfo(nodeSpec(), hostile, {});
    assert.ok(info.databaseFacts);
    // As an operator might: the whole file under psql, going on past errors (the database exists already).
    const psql = spawnSync(join(node.binDir, 'psql'), ['-X', '-q', '--dbname', node.url], {
      input: renderDatabaseConfig(info.databaseFacts, info.serverVersion),
      encoding: 'utf8',
    });
    assert.equal(psql.status, 0, psql.stderr);
    const left = await withClient(node.url, (c) =>
      c.query("select count(*)::int as n from pg_database where datname = 'victim'"),
    );
    assert.equal(left.rows[0]?.n, 1, 'victim was not dropped');
  });

  for (const source of [SOURCE, 'icu']) {
    test(`${source === 'icu' ? 'an ICU template database' : 'owner, locale, tablespace, limit, settings, grants, comment'}: the same as pg_dump --create's`, async () => {
      const info = await readNodeInfo(nodeSpec(), source, {});
      assert.ok(info.databaseFacts);
      const ours = renderDatabaseConfig(info.databaseFacts, info.serverVersion);
      // Rewritten for another name and run statement by statement, as `pgbackman restore` does.
      const copy = `${source} ours`;
      await restoreConfig(ours, source, copy);
      await restoreConfig(await pgDumpCreate(source), source, `${source} pg_dump`);
      const expected = await fingerprint(source);
      assert.deepEqual(await fingerprint(copy), expected);
      assert.deepEqual(await fingerprint(`${source} pg_dump`), expected);
      // Runs whole under psql as well, the way an operator would use it without pgbackman.
      const renamed = ours.replaceAll(pg.escapeIdentifier(source), pg.escapeIdentifier(`${source} psql`));
      await withClient(node.url, (c) =>
        c.query(`drop database if exists ${pg.escapeIdentifier(`${source} psql`)}`),
      );
      const psql = spawnSync(
        join(node.binDir, 'psql'),
        ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '--dbname', node.url],
        {
          input: renamed,
          encoding: 'utf8',
        },
      );
      assert.equal(psql.status, 0, psql.stderr);
      assert.deepEqual(await fingerprint(`${source} psql`), expected);
    });
  }
});
