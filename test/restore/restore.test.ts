import assert from 'node:assert/strict';
import { appendFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { createTestCatalogue, type TestCatalogue } from '../support/catalogues.ts';
import { assertNoStackTrace, runCli, writeTree } from '../support/run-cli.ts';
import { testServerUrl, withClient, withDatabase } from '../support/test-database.ts';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../support/throwaway-postgres.ts';

// Roles are global to a cluster: names of this file's own, so other files' dumps of the shared cluster are not disturbed.
const SOURCE_DB = 'restore src "q"';
const ROLES = ['rs_owner', 'rs_reader', 'rs_readers'];
const q = pg.escapeIdentifier;
const CL_TWO = 'cl "two" ü';

async function createSource(server: string): Promise<void> {
  await withClient(server, async (c) => {
    await c.query(`drop database if exists ${q(SOURCE_DB)} with (force)`);
    for (const role of ROLES)
      await c.query(
        `do $$ begin if not exists (select from pg_roles where rolname = '${role}') then create role ${role}; end if; end $$`,
      );
    await c.query("alter role rs_owner with login password 'owner-secret'");
    await c.query('grant rs_readers to rs_reader');
    await c.query(`create database ${q(SOURCE_DB)} owner rs_owner`);
    await c.query(`alter database ${q(SOURCE_DB)} set work_mem = '12MB'`);
    await c.query(`alter role rs_reader in database ${q(SOURCE_DB)} set statement_timeout = '7s'`);
    await c.query(`grant connect on database ${q(SOURCE_DB)} to rs_readers`);
    await c.query(`comment on database ${q(SOURCE_DB)} is 'the shop'`);
  });
  await withClient(withDatabase(server, SOURCE_DB), (c) =>
    c.query(`
      create schema sales authorization rs_owner;
      create table sales.orders (id int primary key, customer text, total numeric, note bytea);
      insert into sales.orders select g, 'customer ' || g, g * 1.5, decode(md5(g::text), 'hex') from generate_series(1, 3000) g;
      alter table sales.orders owner to rs_owner;
      grant usage on schema sales to rs_readers;
      grant select on sales.orders to rs_readers;
      select lo_from_bytea(515151, 'a large object'::bytea);
      analyze sales.orders;
    `),
  );
}

/** What a restore must bring back: the rows, a checksum of them, the large object, grants and owner. */
async function fingerprint(url: string) {
  return withClient(url, async (c) => {
    const one = async (sql: string) => (await c.query(sql)).rows[0];
    return {
      orders: await one(
        "select count(*)::int as n, md5(string_agg(o::text, ',' order by id)) as sum from sales.orders o",
      ),
      lo: await one("select convert_from(lo_get(515151), 'UTF8') as data"),
      reader: await one("select has_table_privilege('rs_readers', 'sales.orders', 'SELECT') as can"),
      owner: await one(
        "select tableowner from pg_tables where schemaname = 'sales' and tablename = 'orders'",
      ),
    };
  });
}

describe('pgbackman restore', () => {
  let catalogue: TestCatalogue;
  let root: string;
  let fresh: ThrowawayPostgres;
  let small: ThrowawayPostgres;
  const shared = new URL(testServerUrl());
  const cli = async (...args: string[]) => {
    const r = await runCli(['--catalogue', catalogue.location, ...args]);
    assertNoStackTrace(r);
    return r;
  };
  const ids: Record<string, string> = {};
  const restores = async () =>
    JSON.parse((await cli('get', 'restores', '-o', 'json')).stdout) as Record<string, unknown>[];
  const databasesOf = async (url: string) =>
    withClient(url, async (c) =>
      (await c.query('select datname from pg_database')).rows.map((r) => r.datname as string),
    );

  before(async () => {
    catalogue = await createTestCatalogue('postgres', 'restore');
    root = await mkdtemp(join(tmpdir(), 'pgbackman-restore-root-'));
    await createSource(testServerUrl());
    fresh = await startThrowawayPostgres('restore-fresh');
    // A cluster of its own for the CLUSTER dump: the shared one holds every other test file's databases.
    small = await startThrowawayPostgres('restore-cluster-source');
    await withClient(small.url, async (c) => {
      await c.query("create role cl_owner login password 'cl-secret'");
      await c.query('create database cl_one owner cl_owner');
      await c.query(`create database ${q(CL_TWO)} owner cl_owner`);
      await c.query('create database cl_tpl is_template true');
    });
    for (const db of ['cl_one', CL_TWO])
      await withClient(withDatabase(small.url, db), (c) =>
        c.query(
          'create table items as select g as id from generate_series(1, 250) g; alter table items owner to cl_owner',
        ),
      );
    const node = (name: string, port: number | string) =>
      `---\napiVersion: pgbackman.io/v1\nkind: PgSQLNode\nmetadata: {name: ${name}}\nspec: {host: 127.0.0.1, port: ${port}, sslMode: disable}\n`;
    const def = (name: string, spec: string) =>
      `---\napiVersion: pgbackman.io/v1\nkind: BackupDefinition\nmetadata: {name: ${name}}\nspec: {server: local, node: src, database: ${JSON.stringify(SOURCE_DB)}${spec}}\n`;
    const dir = await writeTree({
      'm.yaml': `apiVersion: pgbackman.io/v1\nkind: BackupServer\nmetadata: {name: local}\nspec: {hostname: localhost, rootDirectory: ${JSON.stringify(root)}}\n${node('src', shared.port)}${node('fresh', fresh.port)}${node('down', 1)}---\napiVersion: pgbackman.io/v1\nkind: PgSQLNode\nmetadata: {name: src-alias}\nspec: {host: localhost, port: ${shared.port}, sslMode: disable}\n${def('custom', '')}${def('directory', ', format: directory, jobs: 2')}${def('plain', ', format: plain')}${def('tar', ', format: tar')}${def('schema', ', code: SCHEMA')}${def('data', ', code: DATA')}${def('spare', '')}${node('small', small.port)}---\napiVersion: pgbackman.io/v1\nkind: BackupDefinition\nmetadata: {name: whole}\nspec: {server: local, node: small, code: CLUSTER}\n`,
    });
    const applied = await cli('apply', dir, '--auto-approve');
    assert.equal(applied.code, 0, applied.stderr);
    for (const name of ['custom', 'directory', 'plain', 'tar', 'schema', 'data', 'spare', 'whole']) {
      const r = await cli('run', name);
      assert.equal(r.code, 0, r.stderr);
      ids[name] = /Backup ([0-9a-f-]{36}) SUCCEEDED/.exec(r.stdout)?.[1] as string;
    }
  });
  after(async () => {
    await fresh?.stop();
    await small?.stop();
    await catalogue?.drop();
    await rm(root, { recursive: true, force: true });
  });

  test('--roles skip onto a cluster without the roles: fails part-way and says what state the target is in', async () => {
    const r = await cli(
      'restore',
      ids.custom as string,
      '--node',
      'fresh',
      '--database',
      'skipped',
      '--roles',
      'skip',
      '--no-config',
    );
    assert.equal(r.code, 1);
    assert.match(r.stderr, /RESTORE_FAILED/);
    assert.match(r.stderr, /role "rs_owner" does not exist/);
    assert.match(r.stderr, /database "skipped" exists and is only partly restored/);
    const roles = await withClient(
      fresh.url,
      async (c) => (await c.query("select rolname from pg_roles where rolname like 'rs\\_%'")).rows,
    );
    assert.deepEqual(roles, [], 'no role was created');
    const [last] = await restores();
    assert.equal(last?.status, 'FAILED');
  });

  test('a custom dump restores onto a fresh cluster: roles, owner, grants, settings, comment and contents', async () => {
    const r = await cli('restore', ids.custom as string, '--node', 'fresh');
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      new RegExp(`Restore [0-9a-f]{8} SUCCEEDED: database "${SOURCE_DB.replace(/"/g, '"')}" on node fresh`),
    );
    assert.match(r.stderr, /create missing roles: rs_owner, rs_reader, rs_readers/);
    assert.doesNotMatch(r.stderr, /SCRAM-SHA-256/, 'the password hash is not shown');
    const target = withDatabase(fresh.url, SOURCE_DB);
    assert.deepEqual(await fingerprint(target), await fingerprint(withDatabase(testServerUrl(), SOURCE_DB)));
    await withClient(fresh.url, async (c) => {
      const db = (
        await c.query(
          `select pg_get_userbyid(datdba) as owner, shobj_description(oid, 'pg_database') as comment,
                  has_database_privilege('rs_readers', oid, 'CONNECT') as connect
             from pg_database where datname = $1`,
          [SOURCE_DB],
        )
      ).rows[0];
      assert.deepEqual(db, { owner: 'rs_owner', comment: 'the shop', connect: true });
      const settings = (
        await c.query(
          `select coalesce(r.rolname, '*') as role, s.setconfig from pg_db_role_setting s
             join pg_database d on d.oid = s.setdatabase left join pg_roles r on r.oid = s.setrole
            where d.datname = $1 order by 1`,
          [SOURCE_DB],
        )
      ).rows;
      assert.deepEqual(settings, [
        { role: '*', setconfig: ['work_mem=12MB'] },
        { role: 'rs_reader', setconfig: ['statement_timeout=7s'] },
      ]);
      const member = (await c.query("select pg_has_role('rs_reader', 'rs_readers', 'MEMBER') as m")).rows[0];
      assert.equal(member.m, true);
    });
    // The owner's password came with its role: it can log in on the new cluster.
    await withClient(
      `postgres://rs_owner:owner-secret@127.0.0.1:${fresh.port}/${encodeURIComponent(SOURCE_DB)}`,
      (c) => c.query('select 1'),
    );
    const [last] = await restores();
    assert.equal(last?.status, 'SUCCEEDED');
    assert.equal(last?.backupId, ids.custom);
    assert.equal(last?.targetNode, 'fresh');
  });

  test('every format restores: directory with --jobs 2, tar and plain SQL', async () => {
    const expected = await fingerprint(withDatabase(testServerUrl(), SOURCE_DB));
    for (const format of ['directory', 'tar', 'plain']) {
      const r = await cli(
        'restore',
        ids[format] as string,
        '--node',
        'fresh',
        '--database',
        `fmt_${format}`,
        '--jobs',
        '2',
      );
      assert.equal(r.code, 0, `${format}: ${r.stderr}`);
      assert.deepEqual(await fingerprint(withDatabase(fresh.url, `fmt_${format}`)), expected, format);
    }
  });

  test('a DATA dump goes into a database that has the tables: the SCHEMA dump first, then the data', async () => {
    const missing = await cli('restore', ids.data as string, '--node', 'fresh', '--database', 'split');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /a DATA dump restores into a database that has its tables/);
    assert.equal(
      (await cli('restore', ids.schema as string, '--node', 'fresh', '--database', 'split')).code,
      0,
    );
    const r = await cli('restore', ids.data as string, '--node', 'fresh', '--database', 'split');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      (await fingerprint(withDatabase(fresh.url, 'split'))).orders,
      (await fingerprint(withDatabase(testServerUrl(), SOURCE_DB))).orders,
    );
  });

  test('an existing database: fail touches nothing, rename keeps it under the new name, drop replaces it', async () => {
    const mark = () =>
      withClient(withDatabase(fresh.url, 'busy'), (c) => c.query('create table marker (x int)'));
    await withClient(fresh.url, (c) => c.query('create database busy'));
    await mark();
    const refused = await cli('restore', ids.custom as string, '--node', 'fresh', '--database', 'busy');
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /RESTORE_REFUSED.*database "busy" exists on the target; nothing was touched/,
    );
    await withClient(withDatabase(fresh.url, 'busy'), (c) => c.query('select * from marker'));

    const renamed = await cli(
      'restore',
      ids.custom as string,
      '--node',
      'fresh',
      '--database',
      'busy',
      '--existing',
      'rename',
      '--rename-existing-to',
      'busy_before',
    );
    assert.equal(renamed.code, 0, renamed.stderr);
    assert.match(renamed.stdout, /the previous one is now "busy_before"/);
    await withClient(withDatabase(fresh.url, 'busy_before'), (c) => c.query('select * from marker'));
    assert.equal((await fingerprint(withDatabase(fresh.url, 'busy'))).orders.n, 3000);
    const [last] = await restores();
    assert.equal(last?.renamedTo, 'busy_before');

    await withClient(withDatabase(fresh.url, 'busy'), (c) => c.query('create table marker (x int)'));
    const dropped = await cli(
      'restore',
      ids.custom as string,
      '--node',
      'fresh',
      '--database',
      'busy',
      '--existing',
      'drop',
    );
    assert.equal(dropped.code, 0, dropped.stderr);
    const marker = await withClient(
      withDatabase(fresh.url, 'busy'),
      async (c) => (await c.query("select to_regclass('marker') as t")).rows[0].t,
    );
    assert.equal(marker, null, 'the old database was dropped');
  });

  test("the dump's own source database is never dropped", async () => {
    const before = await fingerprint(withDatabase(testServerUrl(), SOURCE_DB));
    const r = await cli('restore', ids.custom as string, '--node', 'src', '--existing', 'drop');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /is the dump's own source: dropping it is refused/);
    assert.deepEqual(await fingerprint(withDatabase(testServerUrl(), SOURCE_DB)), before);
  });

  test('a database in use is renamed only with --terminate-connections', async () => {
    await withClient(fresh.url, (c) => c.query('create database in_use'));
    const user = new pg.Client({ connectionString: withDatabase(fresh.url, 'in_use') });
    user.on('error', () => undefined);
    await user.connect();
    try {
      const refused = await cli(
        'restore',
        ids.custom as string,
        '--node',
        'fresh',
        '--database',
        'in_use',
        '--existing',
        'rename',
      );
      assert.equal(refused.code, 1);
      assert.match(
        refused.stderr,
        /in use by 1 session\(s\): it is not renamed unless --terminate-connections/,
      );
      await user.query('select 1');
      const r = await cli(
        'restore',
        ids.custom as string,
        '--node',
        'fresh',
        '--database',
        'in_use',
        '--existing',
        'rename',
        '--terminate-connections',
      );
      assert.equal(r.code, 0, r.stderr);
      await assert.rejects(user.query('select 1'), 'the session was terminated');
    } finally {
      await user.end().catch(() => undefined);
    }
  });

  test('a tampered dump is refused before anything is touched', async () => {
    const [dir] = readdirSync(join(root, 'src', encodeURIComponent(SOURCE_DB).replace(/%20/g, '%20'))).filter(
      (d) => d.includes('-spare-'),
    );
    assert.ok(dir, 'the spare dump is on disk');
    appendFileSync(join(root, 'src', encodeURIComponent(SOURCE_DB), dir, 'database.dump'), 'x');
    const before = (await restores()).length;
    const r = await cli('restore', ids.spare as string, '--node', 'fresh', '--database', 'tampered');
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /RESTORE_REFUSED.*the dump failed its check \(CORRUPT\).*nothing on the target was touched/s,
    );
    assert.ok(!(await databasesOf(fresh.url)).includes('tampered'));
    assert.equal((await restores()).length, before, 'a refused restore never started');
  });

  test('--dry-run prints every step and command and changes nothing', async () => {
    const before = (await restores()).length;
    const r = await cli('restore', ids.custom as string, '--node', 'fresh', '--database', 'dry', '--dry-run');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /CREATE DATABASE "dry" WITH TEMPLATE = template0/);
    assert.match(r.stdout, /ALTER DATABASE "dry" OWNER TO "rs_owner"/);
    assert.match(r.stdout, /pg_restore --dbname .*dbname='dry'.* --exit-on-error .*database\.dump/);
    assert.match(r.stdout, /Dry run: nothing was changed\./);
    assert.ok(!(await databasesOf(fresh.url)).includes('dry'));
    assert.equal((await restores()).length, before);
  });

  test('a hostile database name is a name, never SQL', async () => {
    const name = 'x"; drop database postgres; --';
    const r = await cli('restore', ids.custom as string, '--node', 'fresh', '--database', name);
    assert.equal(r.code, 0, r.stderr);
    const names = await databasesOf(fresh.url);
    assert.ok(names.includes(name) && names.includes('postgres'));
  });

  test('a node that is down: the restore says so, and nothing is recorded', async () => {
    const before = (await restores()).length;
    const r = await cli('restore', ids.custom as string, '--node', 'down', '--database', 'nowhere');
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /NODE_UNREACHABLE.*cannot connect to 127\.0\.0\.1:1 database "postgres": .* \(node down\); nothing was restored/,
    );
    assert.equal((await restores()).length, before);
  });

  test('describe restore shows one run with its options and steps; get restores filters by status', async () => {
    const [last] = await restores();
    const d = await cli('describe', 'restore', String(last?.id).slice(0, 8));
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stdout, /targetNode: fresh/);
    assert.match(d.stdout, /steps:\n {2}- re-hash the dump/);
    const failed = JSON.parse((await cli('get', 'restores', '--status', 'FAILED', '-o', 'json')).stdout) as {
      status: string;
    }[];
    assert.ok(failed.length >= 1 && failed.every((f) => f.status === 'FAILED'));
    const table = await cli('get', 'restores');
    assert.match(table.stdout, /ID\s+BACKUP\s+TARGET\s+STATUS/);
  });

  test('verify --restore proves a dump restores: tables, rows against the estimates taken with it, a probe; the scratch database is dropped', async () => {
    const ok = await cli(
      'verify',
      ids.custom as string,
      '--restore',
      '--node',
      'fresh',
      '--probe',
      'select count(*) = 3000 from sales.orders',
    );
    assert.equal(ok.code, 0, ok.stderr + ok.stdout);
    assert.match(
      ok.stdout,
      /VERIFIED: restored onto fresh in [\d.]+ s: 1 table\(s\) present with the rows they had, probe true/,
    );
    const [dump] = JSON.parse((await cli('get', 'backups', '-o', 'json', '--limit', '100')).stdout).filter(
      (b: { id: string }) => b.id === ids.custom,
    );
    assert.equal(dump.restoreVerifyStatus, 'VERIFIED');
    assert.deepEqual(dump.restoreVerifyDetails.tables, [
      { table: 'sales.orders', estimate: 3000, restored: 3000 },
    ]);
    assert.ok(
      !(await databasesOf(fresh.url)).some((d) => d.startsWith('pgbackman_verify_')),
      'the scratch database is gone',
    );
    assert.match(
      (await cli('describe', 'backup', ids.custom as string)).stdout,
      /restoreVerifyStatus: VERIFIED/,
    );

    const probeFalse = await cli(
      'verify',
      ids.custom as string,
      '--restore',
      '--node',
      'fresh',
      '--probe',
      'select count(*) > 3000 from sales.orders',
    );
    assert.equal(probeFalse.code, 1);
    assert.match(probeFalse.stdout, /VERIFY_FAILED: the probe returned false, not true/);
    // The probe reads: a write, or a second statement, is an error on the copy, never a change.
    const writes = await cli(
      'verify',
      ids.custom as string,
      '--restore',
      '--node',
      'fresh',
      '--probe',
      'delete from sales.orders returning true',
    );
    assert.match(
      writes.stdout,
      /VERIFY_FAILED: the probe returned "error: syntax error at or near \\"(delete|from)\\"", not true/,
    );
    const two = await cli(
      'verify',
      ids.custom as string,
      '--restore',
      '--node',
      'fresh',
      '--probe',
      'select true; select true',
    );
    assert.match(
      two.stdout,
      /VERIFY_FAILED: the probe returned "error: syntax error at or near \\";\\"", not true/,
    );
    // A superuser's function that reaches outside the copy is still a query: documented, not sandboxed; COPY is not.
    const copy = await cli(
      'verify',
      ids.custom as string,
      '--restore',
      '--node',
      'fresh',
      '--probe',
      "copy (select 1) to program 'true'",
    );
    assert.match(copy.stdout, /VERIFY_FAILED: the probe returned "error: syntax error at or near /);
    assert.ok(!(await databasesOf(fresh.url)).some((d) => d.startsWith('pgbackman_verify_')));
  });

  test('verify --restore of a tampered dump: VERIFY_FAILED, recorded, nothing left behind', async () => {
    const r = await cli('verify', ids.spare as string, '--restore', '--node', 'fresh');
    assert.equal(r.code, 1);
    assert.match(r.stdout, /VERIFY_FAILED: the dump failed its check \(CORRUPT\)/);
    const described = await cli('describe', 'backup', ids.spare as string);
    assert.match(described.stdout, /restoreVerifyStatus: VERIFY_FAILED/);
  });

  test('a CLUSTER dump restores every database onto a node, with the roles it lacks; --existing applies to each', async () => {
    await withClient(fresh.url, (c) => c.query('create database cl_one'));
    await withClient(withDatabase(fresh.url, 'cl_one'), (c) => c.query('create table marker (x int)'));
    const refused = await cli('restore', ids.whole as string, '--node', 'fresh');
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /RESTORE_REFUSED.*1 of the dump's databases cannot be restored: database "cl_one" exists on the target; nothing was touched/,
    );
    assert.ok(!(await databasesOf(fresh.url)).includes(CL_TWO), 'nothing was restored');

    const dry = await cli(
      'restore',
      ids.whole as string,
      '--node',
      'fresh',
      '--existing',
      'rename',
      '--dry-run',
    );
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /create missing roles: cl_owner/);
    assert.match(dry.stdout, /restore database "cl_one", the existing one renamed to "cl_one_\d{8}_\d{6}"/);
    assert.match(dry.stdout, new RegExp(`restore database "${CL_TWO}"`));
    assert.match(dry.stdout, /left as they are on the target: template1, postgres/);

    const r = await cli('restore', ids.whole as string, '--node', 'fresh', '--existing', 'rename');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /SUCCEEDED: the cluster dump on node fresh; renamed: cl_one → cl_one_\d{8}_\d{6}/);
    for (const db of ['cl_one', CL_TWO]) {
      const row = await withClient(
        withDatabase(fresh.url, db),
        async (c) =>
          (
            await c.query(
              "select count(*)::int as n, (select tableowner from pg_tables where tablename = 'items') as owner from items",
            )
          ).rows[0],
      );
      assert.deepEqual(row, { n: 250, owner: 'cl_owner' }, db);
    }
    const kept = (await databasesOf(fresh.url)).find((d) => d.startsWith('cl_one_'));
    assert.ok(kept !== undefined);
    await withClient(withDatabase(fresh.url, kept), (c) => c.query('select * from marker'));
    await withClient(`postgres://cl_owner:cl-secret@127.0.0.1:${fresh.port}/cl_one`, (c) =>
      c.query('select 1'),
    );
    const [last] = await restores();
    assert.equal(last?.targetDatabase, '*');
    assert.equal(last?.status, 'SUCCEEDED');

    // A template database on the target is never dropped: refused with the others, before anything changes.
    const oid = async () =>
      withClient(
        fresh.url,
        async (c) => (await c.query("select oid::int from pg_database where datname = 'cl_one'")).rows[0].oid,
      );
    const before = await oid();
    const dropped = await cli(
      'restore',
      ids.whole as string,
      '--node',
      'fresh',
      '--existing',
      'drop',
      '--terminate-connections',
    );
    assert.equal(dropped.code, 1);
    assert.match(
      dropped.stderr,
      /RESTORE_REFUSED.*database "cl_tpl" is a template on the target \(datistemplate\): it is not dropped/,
    );
    assert.equal(await oid(), before, 'cl_one was not touched');
  });

  test("the dump's own source is recognised by its cluster's identity, whatever name or address the target has", async () => {
    const aliased = await cli(
      'restore',
      ids.custom as string,
      '--node',
      'src-alias',
      '--existing',
      'drop',
      '--dry-run',
    );
    assert.equal(aliased.code, 1);
    assert.match(aliased.stderr, /is the dump's own source: dropping it is refused/);
    const root2 = join(root, 'src', encodeURIComponent(SOURCE_DB));
    const [dir] = readdirSync(root2).filter((d) => d.endsWith((ids.custom as string).slice(0, 8)));
    const offline = await runCli([
      '--catalogue',
      'postgres://postgres@127.0.0.1:1/nowhere',
      'restore',
      '--from',
      join(root2, dir as string),
      '--target',
      `host=localhost port=${shared.port} user=postgres`,
      '--existing',
      'drop',
      '--dry-run',
    ]);
    assert.equal(offline.code, 1);
    assert.match(offline.stderr, /is the dump's own source: dropping it is refused/);
  });

  test('restore --from a dump folder with no catalogue at all: --target a libpq string; a tampered folder is refused', async () => {
    const folderOf = (id: string) => {
      const base = join(root, 'src', encodeURIComponent(SOURCE_DB));
      const [dir] = readdirSync(base).filter((d) => d.endsWith(id.slice(0, 8)));
      return join(base, dir as string);
    };
    const state = await mkdtemp(join(tmpdir(), 'pgbackman-restore-state-'));
    const offline = (...args: string[]) =>
      runCli(['--catalogue', 'postgres://postgres@127.0.0.1:1/nowhere', ...args], {
        env: { PGBACKMAN_STATE_DIR: state },
      });
    try {
      const r = await offline(
        'restore',
        '--from',
        folderOf(ids.custom as string),
        '--target',
        `host=127.0.0.1 port=${fresh.port} user=postgres`,
        '--database',
        'from_folder',
      );
      assertNoStackTrace(r);
      assert.equal(r.code, 0, r.stderr);
      assert.match(
        r.stdout,
        /SUCCEEDED: database "from_folder" on node 127\.0\.0\.1:\d+ \(log: .*\.restores/,
      );
      assert.deepEqual(
        await fingerprint(withDatabase(fresh.url, 'from_folder')),
        await fingerprint(withDatabase(testServerUrl(), SOURCE_DB)),
      );
      // A file inside the folder given instead of the folder: the same dump.
      const dry = await offline(
        'restore',
        '--from',
        join(folderOf(ids.custom as string), 'database.dump'),
        '--target',
        `postgresql://postgres@127.0.0.1:${fresh.port}/postgres`,
        '--database',
        'x',
        '--dry-run',
      );
      assert.equal(dry.code, 0, dry.stderr);
      const tampered = await offline(
        'restore',
        '--from',
        folderOf(ids.spare as string),
        '--target',
        `host=127.0.0.1 port=${fresh.port}`,
        '--database',
        'never',
      );
      assert.equal(tampered.code, 1);
      assert.match(tampered.stderr, /RESTORE_REFUSED.*CORRUPT/);
      const bad = await offline(
        'restore',
        '--from',
        folderOf(ids.custom as string),
        '--target',
        'host=127.0.0.1 options=-csearch_path=x',
      );
      assert.match(bad.stderr, /--target: "options" is not supported/);
      const empty = await offline('restore', '--from', folderOf(ids.custom as string), '--target', '');
      assert.match(empty.stderr, /--target is empty/);
      const notFolder = await offline(
        'restore',
        '--from',
        state,
        '--target',
        `host=127.0.0.1 port=${fresh.port}`,
      );
      assert.match(notFolder.stderr, /has no backup\.json: not a dump folder pgbackman wrote/);
    } finally {
      await rm(state, { recursive: true, force: true });
    }
  });

  test('catalogue import rebuilds the catalogue from the dump folders, idempotently; a hostile backup.json is reported, not followed', async () => {
    const empty = await createTestCatalogue('postgres', 'restore-import');
    const hostile = join(root, 'src', 'evil', 'x-00000000');
    try {
      await import('node:fs/promises').then((fs) => fs.mkdir(hostile, { recursive: true }));
      const [any] = readdirSync(join(root, 'src', encodeURIComponent(SOURCE_DB))).filter((d) =>
        d.endsWith((ids.custom as string).slice(0, 8)),
      );
      const manifest = JSON.parse(
        await import('node:fs/promises').then((fs) =>
          fs.readFile(join(root, 'src', encodeURIComponent(SOURCE_DB), any as string, 'backup.json'), 'utf8'),
        ),
      );
      manifest.files.dump = '../../../etc/passwd';
      await import('node:fs/promises').then((fs) =>
        fs.writeFile(join(hostile, 'backup.json'), JSON.stringify(manifest)),
      );
      const imp = (...args: string[]) =>
        runCli(['--catalogue', empty.location, 'catalogue', 'import', ...args]);
      const first = await imp(root);
      assertNoStackTrace(first);
      assert.equal(first.code, 1, 'the hostile folder is unreadable');
      assert.match(
        first.stdout,
        /unreadable: .*evil.*"\.\.\/\.\.\/\.\.\/etc\/passwd" is not a plain file name/,
      );
      assert.match(
        first.stderr,
        /(\d+) dump folder\(s\): (\d+) imported, 0 already known, 0 conflict\(s\), 1 unreadable/,
      );
      const imported = Number(/(\d+) imported/.exec(first.stderr)?.[1]);
      assert.ok(imported >= 8, `every dump taken was imported (${imported})`);
      await rm(join(root, 'src', 'evil'), { recursive: true, force: true });
      const again = await imp(root);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stderr, new RegExp(`0 imported, ${imported} already known, 0 conflict`));
      const listed = JSON.parse(
        (await runCli(['--catalogue', empty.location, 'get', 'backups', '-o', 'json'])).stdout,
      ) as { id: string; status: string }[];
      assert.ok(listed.some((b) => b.id === ids.custom && b.status === 'SUCCEEDED'));
      // The imported catalogue restores as the original did.
      const r = await runCli([
        '--catalogue',
        empty.location,
        'restore',
        (ids.custom as string).slice(0, 8),
        '--node',
        'fresh',
        '--database',
        'from_import',
        '--dry-run',
      ]);
      assert.match(r.stderr + r.stdout, /no PgSQLNode "fresh"|Dry run/);
    } finally {
      await rm(join(root, 'src', 'evil'), { recursive: true, force: true });
      await empty.drop();
    }
  });
});
