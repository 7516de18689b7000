import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, type Stats, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import pg from 'pg';
import { type FileSum, readBackupManifest } from '../../src/backup/files/backup-manifest.ts';
import type { BackupRun } from '../../src/catalogue/backup-runs.ts';
import { createTestCatalogue, type TestCatalogue } from '../support/catalogues.ts';
import { assertNoStackTrace, runCli, writeTree } from '../support/run-cli.ts';
import { testServerUrl, withClient, withDatabase } from '../support/test-database.ts';
import {
  findPgBinDir,
  startThrowawayPostgres,
  type ThrowawayPostgres,
} from '../support/throwaway-postgres.ts';

const exec = promisify(execFile);
const BIN = findPgBinDir();
const SOURCE_DB = 'shop ünïcode "q"';

/** A database that exercises a dump: schemas, large objects, roles with grants, settings, a non-ASCII name. */
async function createSourceDatabase(server: string): Promise<void> {
  await withClient(server, async (c) => {
    await c.query(`drop database if exists ${pg.escapeIdentifier(SOURCE_DB)} with (force)`);
    for (const role of ['shop_owner', 'shop_reader', 'shop_readers']) {
      await c.query(
        `do $$ begin if not exists (select from pg_roles where rolname = '${role}') then create role ${role}; end if; end $$`,
      );
    }
    await c.query('grant shop_readers to shop_reader');
    await c.query(`create database ${pg.escapeIdentifier(SOURCE_DB)} owner shop_owner`);
    await c.query(`alter database ${pg.escapeIdentifier(SOURCE_DB)} set work_mem = '12MB'`);
    await c.query(
      `alter role shop_reader in database ${pg.escapeIdentifier(SOURCE_DB)} set statement_timeout = '7s'`,
    );
    await c.query(`grant connect on database ${pg.escapeIdentifier(SOURCE_DB)} to shop_readers`);
  });
  await withClient(withDatabase(server, SOURCE_DB), async (c) => {
    await c.query(`
      create schema sales authorization shop_owner;
      create schema audit;
      create table sales.orders (id int primary key, customer text, total numeric, note bytea);
      insert into sales.orders select g, 'customer ' || g, g * 1.5, decode(md5(g::text), 'hex') from generate_series(1, 5000) g;
      create table audit.events (id bigserial primary key, at timestamptz default now(), what text);
      insert into audit.events (what) select 'event ' || g from generate_series(1, 300) g;
      alter table sales.orders owner to shop_owner;
      grant usage on schema sales to shop_readers;
      grant select on sales.orders to shop_readers;
      select lo_from_bytea(424242, 'a large object'::bytea);
    `);
  });
}

/** What must survive a dump and a restore: row counts, a checksum of the contents, the large object. */
async function fingerprint(url: string) {
  return withClient(url, async (c) => {
    const q = async (sql: string) => (await c.query(sql)).rows[0];
    return {
      orders: await q(
        "select count(*)::int as n, md5(string_agg(o::text, ',' order by id)) as sum from sales.orders o",
      ),
      events: await q('select count(*)::int as n from audit.events'),
      lo: await q('select convert_from(lo_get(424242), $$UTF8$$) as data'),
      grants: await q("select has_table_privilege('shop_readers', 'sales.orders', 'SELECT') as reader"),
      owner: await q("select tableowner from pg_tables where schemaname = 'sales' and tablename = 'orders'"),
    };
  });
}

function manifests(root: string, port: number, extra = '', clusterPort = port): Record<string, string> {
  const def = (name: string, spec: string, node = 'node-a') =>
    `---\napiVersion: pgbackman.io/v1\nkind: BackupDefinition\nmetadata: {name: ${name}}\nspec: {server: local, node: ${node}, ${spec}}\n`;
  return {
    'm.yaml': `apiVersion: pgbackman.io/v1
kind: BackupServer
metadata: {name: local}
spec: {hostname: localhost, rootDirectory: ${JSON.stringify(root)}${extra}}
---
apiVersion: pgbackman.io/v1
kind: PgSQLNode
metadata: {name: node-a}
spec: {host: 127.0.0.1, port: ${port}}
${def('full-custom', `database: ${JSON.stringify(SOURCE_DB)}`)}${def('full-directory', `database: ${JSON.stringify(SOURCE_DB)}, format: directory, jobs: 2`)}${def('full-plain', `database: ${JSON.stringify(SOURCE_DB)}, format: plain`)}${def('full-tar', `database: ${JSON.stringify(SOURCE_DB)}, format: tar`)}${def('schema-only', `database: ${JSON.stringify(SOURCE_DB)}, code: SCHEMA`)}${def('data-only', `database: ${JSON.stringify(SOURCE_DB)}, code: DATA`)}${def('cluster', 'code: CLUSTER', 'node-b')}${def('gone', 'database: no_such_database')}---
apiVersion: pgbackman.io/v1
kind: PgSQLNode
metadata: {name: node-down}
spec: {host: 127.0.0.1, port: 1}
---
# The CLUSTER dump's node: a cluster of the test's own, since pg_dumpall walks every database and the shared
# server's come and go with the other test files.
apiVersion: pgbackman.io/v1
kind: PgSQLNode
metadata: {name: node-b}
spec: {host: 127.0.0.1, port: ${clusterPort}}
---
apiVersion: pgbackman.io/v1
kind: BackupDefinition
metadata: {name: unreachable}
spec: {server: local, node: node-down, database: shop}
`,
  };
}

describe('pgbackman run', () => {
  let catalogue: TestCatalogue;
  let root: string;
  let target: ThrowawayPostgres;
  const node = new URL(testServerUrl());
  const cli = async (...args: string[]) => {
    const r = await runCli(['--catalogue', catalogue.location, ...args]);
    assertNoStackTrace(r);
    return r;
  };

  before(async () => {
    catalogue = await createTestCatalogue('postgres', 'run');
    root = await mkdtemp(join(tmpdir(), 'pgbackman-root-'));
    await createSourceDatabase(testServerUrl());
    target = await startThrowawayPostgres('restore-target');
    const dir = await writeTree(manifests(root, Number(node.port), '', target.port));
    const r = await cli('apply', dir, '--auto-approve');
    assert.equal(r.code, 0, r.stderr + r.stdout);
  });
  after(async () => {
    await target?.stop();
    await catalogue?.drop();
    await rm(root, { recursive: true, force: true });
  });

  /**
   * The run's backup.json, checked against the files on disk (every size and sha256, nothing more in a
   * directory-format dump) and against the catalogue's record of the run (`get backups -o json`).
   */
  async function checkBackupJson(id: string, dir: string) {
    const m = await readBackupManifest(dir);
    const onDisk = (path: string) => {
      const data = readFileSync(path);
      return { bytes: data.length, sha256: createHash('sha256').update(data).digest('hex') };
    };
    const sums: Record<string, unknown> = {};
    for (const [name, entry] of Object.entries(m.files.written)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) {
        assert.deepEqual(Object.keys(entry).sort(), readdirSync(path).sort(), `${name}: every file listed`);
        const inner = entry as Record<string, { bytes: number; sha256: string }>;
        for (const [f, sum] of Object.entries(inner)) assert.deepEqual(sum, onDisk(join(path, f)), f);
        sums[name] = Object.fromEntries(Object.entries(inner).map(([f, sum]) => [f, sum.sha256]));
      } else {
        assert.deepEqual(entry, onDisk(path), name);
        sums[name] = (entry as { sha256: string }).sha256;
      }
    }
    const listed = JSON.parse((await cli('get', 'backups', '-o', 'json')).stdout) as BackupRun[];
    const b = listed.find((x) => x.id === id);
    assert.ok(b?.dumpPath, `run ${id} listed, with its dump`);
    assert.deepEqual(
      {
        runId: m.runId,
        definition: m.definition,
        snapshot: m.snapshot,
        server: m.server,
        node: m.node,
        database: m.database,
        code: m.code,
        pgDumpVersion: m.pgDumpVersion,
        serverVersion: m.serverVersion,
        databaseBytes: m.databaseBytes,
        startedAt: m.startedAt,
        finishedAt: m.finishedAt,
        revision: m.revision,
        retention: m.retention,
        dump: m.files.dump,
        roles: m.files.roles,
        config: m.files.config,
        sha256: sums,
      },
      {
        runId: b.id,
        definition: b.definition,
        snapshot: b.snapshot,
        server: b.server,
        node: b.node,
        database: b.database,
        code: b.code,
        pgDumpVersion: b.pgDumpVersion,
        serverVersion: b.serverVersion,
        databaseBytes: b.databaseBytes,
        startedAt: b.startedAt,
        finishedAt: b.finishedAt,
        revision: b.revision,
        retention: b.retention,
        dump: basename(b.dumpPath),
        roles: b.rolesPath === null ? null : basename(b.rolesPath),
        config: b.configPath === null ? null : basename(b.configPath),
        sha256: b.sha256,
      },
    );
    // The catalogue's dump size is the dump's own (a directory: its files together).
    const entry = m.files.written[m.files.dump] ?? {};
    const dumpBytes =
      typeof entry.sha256 === 'string'
        ? (entry as FileSum).bytes
        : Object.values(entry as Record<string, FileSum>).reduce((n, f) => n + f.bytes, 0);
    assert.equal(dumpBytes, b.dumpBytes);
    // Names, versions, sizes and checksums only: nothing about how to reach the node.
    const text = readFileSync(join(dir, 'backup.json'), 'utf8');
    assert.doesNotMatch(text, /127\.0\.0\.1|postgres:\/\/|dbname|password|passfile|application_name/i);
    return m;
  }

  /** Restores a run's files onto the throwaway target cluster as a new user would: roles, config, data. */
  async function restore(dir: string, file: string, format: string): Promise<string> {
    const psql = (args: string[]) =>
      exec(join(BIN, 'psql'), ['-X', '-q', '-v', 'ON_ERROR_STOP=0', '--dbname', target.url, ...args]);
    await withClient(target.url, (c) =>
      c.query(`drop database if exists ${pg.escapeIdentifier(SOURCE_DB)} with (force)`),
    );
    await psql(['-f', join(dir, 'roles.sql')]);
    await psql(['-f', join(dir, 'config.sql')]);
    const db = withDatabase(target.url, SOURCE_DB);
    if (format === 'plain')
      await exec(join(BIN, 'psql'), ['-X', '-q', '--dbname', db, '-f', join(dir, file)]);
    else await exec(join(BIN, 'pg_restore'), ['--dbname', db, '--exit-on-error', join(dir, file)]);
    return db;
  }

  for (const [name, file, format] of [
    ['full-custom', 'database.dump', 'custom'],
    ['full-directory', 'database.dir', 'directory'],
    ['full-plain', 'database.sql', 'plain'],
    ['full-tar', 'database.tar', 'tar'],
  ] as const) {
    test(`${name}: the dump restores into an identical database on another cluster`, async () => {
      const r = await cli('run', name);
      assert.equal(r.code, 0, r.stderr + r.stdout);
      const [, id, dir] =
        /^Backup ([0-9a-f-]{36}) SUCCEEDED: FULL dump of .* on node-a, .*\n {2}(.+)\n$/.exec(r.stdout) ?? [];
      assert.ok(id && dir, r.stdout);
      assert.deepEqual(
        readdirSync(dir).sort(),
        ['backup.json', 'config.sql', 'dump.log', file, 'globals.log', 'roles.sql'].sort(),
      );
      // Nothing of a dump is readable by anyone but the agent's user: files 0600, directories 0700.
      for (const entry of readdirSync(dir, { recursive: true, encoding: 'utf8' }) as string[]) {
        const st: Stats = statSync(join(dir, entry));
        assert.equal(
          st.mode & 0o777,
          st.isDirectory() ? 0o700 : 0o600,
          `${entry}: ${(st.mode & 0o777).toString(8)}`,
        );
      }
      const m = await checkBackupJson(id, dir);
      assert.deepEqual(
        [m.code, m.format, m.definition, m.files.dump, m.files.roles, m.files.config],
        ['FULL', format, name, file, 'roles.sql', 'config.sql'],
      );
      const restored = await restore(dir, file, format);
      assert.deepEqual(
        await fingerprint(restored),
        await fingerprint(withDatabase(testServerUrl(), SOURCE_DB)),
      );
      const settings = await withClient(
        target.url,
        async (c) =>
          (
            await c.query(
              `select coalesce(r.rolname, '*') as role, s.setconfig from pg_db_role_setting s join pg_database d on d.oid = s.setdatabase
           left join pg_roles r on r.oid = s.setrole where d.datname = $1 order by 1`,
              [SOURCE_DB],
            )
          ).rows,
      );
      assert.deepEqual(settings, [
        { role: '*', setconfig: ['work_mem=12MB'] },
        { role: 'shop_reader', setconfig: ['statement_timeout=7s'] },
      ]);
      // The checksums taken while the files were written agree with a full re-read of them.
      const verified = await cli('verify', id);
      assert.deepEqual([verified.code, verified.stdout], [0, `${id} OK\n`], verified.stderr);
      const described = await cli('describe', 'backup', id);
      assert.match(described.stdout, /status: SUCCEEDED\n/);
      assert.match(described.stdout, /pgDumpVersion: "?\d+\.\d+/);
      assert.match(described.stdout, new RegExp(`dumpPath: .*${file.replace('.', '\\.')}`));
    });
  }

  test('verify re-hashes a dump and reads it, and finds a corrupt or missing file', async () => {
    const r = await cli('run', 'full-custom');
    const [, id, dir] = /^Backup ([0-9a-f-]{36}) SUCCEEDED: .*\n {2}(.+)\n$/.exec(r.stdout) ?? [];
    assert.ok(id && dir, r.stdout);
    const ok = await cli('verify', id.slice(0, 8));
    assert.deepEqual([ok.code, ok.stdout], [0, `${id} OK\n`]);
    const file = join(dir, 'database.dump');
    const bytes = readFileSync(file);
    bytes[bytes.length - 10] = (bytes[bytes.length - 10] ?? 0) ^ 0xff;
    writeFileSync(file, bytes);
    const corrupt = await cli('verify', id);
    assert.equal(corrupt.code, 1);
    assert.match(
      corrupt.stdout,
      new RegExp(
        `^${id} CORRUPT: .*database\\.dump: sha256 [0-9a-f]{64} differs from the [0-9a-f]{64} recorded`,
      ),
    );
    await rm(file);
    const missing = await cli('verify', id);
    assert.match(missing.stdout, /MISSING: .*database\.dump is missing/);
    const described = await cli('describe', 'backup', id);
    assert.match(described.stdout, /verifyStatus: MISSING\n/);
  });

  test('SCHEMA and DATA dumps hold what their names say', async () => {
    const schema = await cli('run', 'schema-only');
    assert.equal(schema.code, 0, schema.stderr);
    const data = await cli('run', 'data-only');
    assert.equal(data.code, 0, data.stderr);
    const list = async (out: string) => {
      const dir = out.trim().split('\n').at(-1)?.trim() as string;
      return (await exec(join(BIN, 'pg_restore'), ['--list', join(dir, 'database.dump')])).stdout;
    };
    assert.doesNotMatch(await list(schema.stdout), / TABLE DATA /);
    assert.match(await list(schema.stdout), / TABLE sales orders /);
    assert.match(await list(data.stdout), / TABLE DATA sales orders /);
    assert.doesNotMatch(await list(data.stdout), / TABLE sales orders /);
  });

  test('CLUSTER dumps the whole node with pg_dumpall', async () => {
    await withClient(target.url, (c) =>
      c.query(
        `do $$ begin if not exists (select from pg_roles where rolname = 'shop_owner') then create role shop_owner; end if; end $$`,
      ),
    );
    const r = await cli('run', 'cluster');
    assert.equal(r.code, 0, r.stderr);
    const dir = r.stdout.trim().split('\n').at(-1)?.trim() as string;
    assert.match(dir, /\/node-b\/_cluster\/\d{8}T\d{6}Z-CLUSTER-cluster-[0-9a-f]{8}$/);
    const { stdout } = await exec('grep', ['-c', 'CREATE ROLE shop_owner', join(dir, 'cluster.sql')]);
    assert.equal(stdout.trim(), '1');
    const [, id] = /^Backup ([0-9a-f-]{36}) /.exec(r.stdout) ?? [];
    assert.ok(id, r.stdout);
    const m = await checkBackupJson(id, dir);
    assert.deepEqual(
      [m.code, m.format, m.database, m.databaseBytes, m.files.dump, m.files.roles, m.files.config],
      ['CLUSTER', 'plain', null, null, 'cluster.sql', null, null],
    );
    assert.deepEqual(Object.keys(m.files.written), ['cluster.sql']);
  });

  test('a failed dump is recorded FAILED with the reason, and leaves no files', async () => {
    const before = readdirSync(join(root, 'node-a')).sort();
    const r = await cli('run', 'gone');
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^Backup [0-9a-f-]{36} FAILED: FULL dump of no_such_database on node-a after/);
    assert.match(r.stderr, /database "no_such_database" does not exist/);
    assert.deepEqual(readdirSync(join(root, 'node-a')).sort(), before);
    const failed = JSON.parse((await cli('get', 'backups', '--status', 'failed', '-o', 'json')).stdout);
    assert.equal(failed.length, 1);
    assert.match(failed[0].error, /does not exist/);
  });

  test('pg_dump killed mid-way: the run is FAILED, its partial output removed', async () => {
    // A session holding an exclusive lock makes pg_dump wait inside its work, where it can be killed.
    const blocker = new pg.Client({ connectionString: withDatabase(testServerUrl(), SOURCE_DB) });
    await blocker.connect();
    await blocker.query('begin');
    await blocker.query('lock table audit.events in access exclusive mode');
    const running = cli('run', 'full-custom');
    let pid = '';
    for (let i = 0; i < 100 && pid === ''; i++) {
      await new Promise((r) => setTimeout(r, 100));
      pid =
        (
          await exec('pgrep', [
            '-f',
            // This file's database only: other test files (the agent's) run custom-format dumps at the same time.
            `pg_dump --dbname .*dbname='shop .*application_name='pgbackman' .*--no-password --verbose --format=custom`,
          ]).catch(() => ({ stdout: '' }))
        ).stdout
          .trim()
          .split('\n')[0] ?? '';
    }
    assert.notEqual(pid, '', 'pg_dump did not start');
    assert.ok(
      readdirSync(join(root, 'node-a'), { recursive: true, encoding: 'utf8' }).some((p) =>
        p.endsWith('.partial'),
      ),
    );
    process.kill(Number(pid), 'SIGKILL');
    const r = await running;
    await blocker.query('rollback');
    await blocker.end();
    assert.equal(r.code, 1);
    assert.match(r.stderr, /pg_dump was killed by SIGKILL/);
    // Nothing of the failed run is left, backup.json least of all.
    const [, id] = /^Backup ([0-9a-f-]{36}) FAILED/.exec(r.stdout) ?? [];
    assert.ok(id, r.stdout);
    const left = readdirSync(root, { recursive: true, encoding: 'utf8' });
    assert.deepEqual(
      left.filter((p) => p.includes(id.slice(0, 8))),
      [],
    );
    for (const p of left.filter((x) => x.endsWith('backup.json')))
      assert.notEqual(JSON.parse(readFileSync(join(root, p), 'utf8')).runId, id);
    assert.equal(
      readdirSync(join(root, 'node-a'), { recursive: true, encoding: 'utf8' }).some((p) =>
        p.endsWith('.partial'),
      ),
      false,
    );
  });

  test('a node that is down: FAILED, with the reason', async () => {
    const r = await cli('run', 'unreachable');
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^Backup [0-9a-f-]{36} FAILED: FULL dump of shop on node-down/);
    assert.match(r.stderr, /cannot connect to 127\.0\.0\.1:1 database "shop": connection refused/);
  });

  test('a second run of the same definition at once is refused', async () => {
    const lock = join(root, '.locks', 'BackupDefinition-full-custom.lock');
    writeFileSync(lock, JSON.stringify({ pid: process.pid, since: '2026-11-25T00:00:00Z' }));
    try {
      const r = await cli('run', 'full-custom');
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        new RegExp(
          `error\\[RUN_LOCKED\\]: BackupDefinition/full-custom is already running \\(pid ${process.pid}`,
        ),
      );
    } finally {
      await rm(lock, { force: true });
    }
  });

  test('a dump does not start when free space is below the reserve', async () => {
    const dir = await writeTree(manifests(root, Number(node.port), ', diskReserve: "99%"', target.port));
    const applied = await cli('apply', dir, '--auto-approve');
    assert.equal(applied.code, 0, applied.stderr + applied.stdout);
    const before = readdirSync(join(root, 'node-a'), { recursive: true }).length;
    const r = await cli('run', 'full-custom');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /free under .*, below the reserve of 99% .*; no dump was started/);
    assert.equal(readdirSync(join(root, 'node-a'), { recursive: true }).length, before);
  });
});
