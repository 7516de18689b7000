import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import pg from 'pg';
import { createTestCatalogue, type TestCatalogue } from '../support/catalogues.ts';
import { assertNoStackTrace, runCli, writeTree } from '../support/run-cli.ts';
import {
  createTestDatabase,
  type TestDatabase,
  testServerUrl,
  withClient,
} from '../support/test-database.ts';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../support/throwaway-postgres.ts';

const exec = promisify(execFile);
const asRoot = process.getuid?.() === 0;

const doc = (kind: string, name: string, spec: string) =>
  `apiVersion: pgbackman.io/v1\nkind: ${kind}\nmetadata: {name: ${name}}\nspec: {${spec}}\n`;

describe('the root directory: what a run writes, and where', () => {
  let catalogue: TestCatalogue;
  let base: string;
  let root: string;
  let bulk: TestDatabase;
  let odd: ThrowawayPostgres;
  const node = new URL(testServerUrl());
  const cli = async (...args: string[]) => {
    const r = await runCli(['--catalogue', catalogue.location, ...args]);
    assertNoStackTrace(r);
    return r;
  };

  before(async () => {
    catalogue = await createTestCatalogue('postgres', 'rootdir');
    base = await mkdtemp(join(tmpdir(), 'pgbackman-rootdir-'));
    root = join(base, 'root');
    bulk = await createTestDatabase('bulk');
    // About 6 MiB of dump that does not compress away: more than the small disk below holds.
    await withClient(bulk.url, (c) =>
      c.query(
        'create table noise as select g, md5(random()::text) || md5(random()::text) as t from generate_series(1, 90000) g',
      ),
    );
    // A node with a database whose name holds a newline, which pg_dumpall refuses to pass on to pg_dump.
    odd = await startThrowawayPostgres('newline-db');
    await withClient(odd.url, (c) => c.query(`create database ${pg.escapeIdentifier('sales\nq1')}`));
    const manifests = [
      doc('BackupServer', 'local', `hostname: localhost, rootDirectory: ${JSON.stringify(root)}`),
      doc(
        'BackupServer',
        'fresh',
        `hostname: localhost, rootDirectory: ${JSON.stringify(join(base, 'fresh'))}`,
      ),
      doc(
        'BackupServer',
        'small-disk',
        `hostname: localhost, rootDirectory: ${JSON.stringify(join(base, 'small'))}`,
      ),
      doc('PgSQLNode', 'n1', `host: 127.0.0.1, port: ${node.port}`),
      doc('PgSQLNode', 'down', 'host: 127.0.0.1, port: 1'),
      doc('PgSQLNode', 'odd', `host: 127.0.0.1, port: ${odd.port}`),
      doc('BackupDefinition', 'unreachable', 'server: fresh, node: down, database: shop'),
      doc('BackupDefinition', 'small', 'server: local, node: n1, database: postgres'),
      // tar, not custom: run.test.ts finds its own pg_dump by `--format=custom` and would kill this one.
      doc('BackupDefinition', 'bulk', `server: small-disk, node: n1, database: ${bulk.name}, format: tar`),
      doc(
        'BackupDefinition',
        'bulk-dir',
        `server: small-disk, node: n1, database: ${bulk.name}, compression: 0, format: directory`,
      ),
      doc(
        'BackupDefinition',
        'bulk-custom',
        `server: small-disk, node: n1, database: ${bulk.name}, compression: 0, format: custom`,
      ),
      doc('BackupDefinition', 'odd-cluster', 'server: local, node: odd, code: CLUSTER'),
    ];
    const dir = await writeTree({ 'm.yaml': manifests.join('---\n') });
    const r = await cli('apply', dir, '--auto-approve');
    assert.equal(r.code, 0, r.stderr + r.stdout);
  });
  after(async () => {
    await odd?.stop();
    await bulk?.drop();
    await catalogue?.drop();
    await rm(base, { recursive: true, force: true });
  });

  test('a run that cannot reach its node creates nothing under the root, and is recorded FAILED', async () => {
    const r = await cli('run', 'unreachable');
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^Backup [0-9a-f-]{36} FAILED: FULL dump of shop on down/);
    assert.match(r.stderr, /cannot connect to 127\.0\.0\.1:1 database "shop": connection refused/);
    assert.equal(existsSync(join(base, 'fresh')), false, 'the root directory was created');
    const failed = JSON.parse((await cli('get', 'backups', '--status', 'failed', '-o', 'json')).stdout);
    assert.ok(failed.some((b: { definition: string }) => b.definition === 'unreachable'));
  });

  test('a symlinked <node>/<database> directory is refused: nothing is written where it points', async () => {
    const outside = join(base, 'outside');
    mkdirSync(outside);
    mkdirSync(join(root, 'n1'), { recursive: true, mode: 0o700 });
    symlinkSync(outside, join(root, 'n1', 'postgres'));
    try {
      const r = await cli('run', 'small');
      assert.equal(r.code, 1, r.stdout);
      assert.match(
        r.stderr,
        /^error\[UNSAFE\]: .*\/root\/n1\/postgres is a symbolic link \(to .*\/outside\); pgbackman writes only into real directories under the root/m,
      );
      assert.deepEqual(readdirSync(outside), []);
      assert.doesNotMatch(r.stdout, /SUCCEEDED/);
    } finally {
      await rm(join(root, 'n1', 'postgres'));
    }
    const ok = await cli('run', 'small');
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /\/root\/n1\/postgres\/\d{8}T\d{6}Z-FULL-small-[0-9a-f]{8}\n$/);
  });

  test('a directory of the layout that others can write, or another user owns, is refused', async () => {
    const nodeDir = join(root, 'n1');
    mkdirSync(nodeDir, { recursive: true, mode: 0o700 });
    chmodSync(nodeDir, 0o777);
    try {
      const r = await cli('run', 'small');
      assert.equal(r.code, 1);
      assert.match(r.stderr, /\/root\/n1 is writable by its group or others \(mode 0777\).*chmod go-w it/);
    } finally {
      chmodSync(nodeDir, 0o700);
    }
    if (!asRoot) return; // only root can give a directory away
    chownSync(nodeDir, 65534, 65534);
    try {
      const r = await cli('run', 'small');
      assert.equal(r.code, 1);
      assert.match(r.stderr, /\/root\/n1 is owned by uid 65534, not by uid 0 that runs pgbackman/);
    } finally {
      chownSync(nodeDir, 0, 0);
    }
  });

  test('a symlinked .locks directory is refused before a lock is written through it', async () => {
    const outside = join(base, 'outside-locks');
    mkdirSync(outside);
    mkdirSync(root, { recursive: true });
    await rm(join(root, '.locks'), { recursive: true, force: true });
    symlinkSync(outside, join(root, '.locks'));
    try {
      const r = await cli('run', 'small');
      assert.equal(r.code, 1);
      assert.match(r.stderr, /\/root\/\.locks is a symbolic link/);
      assert.deepEqual(readdirSync(outside), []);
    } finally {
      await rm(join(root, '.locks'));
    }
  });

  test('a damaged spool record is set aside with a warning naming it, not silently', async () => {
    mkdirSync(join(root, '.spool'), { recursive: true, mode: 0o700 });
    writeFileSync(join(root, '.spool', '00000000-torn.json'), '{"start": {"id": "0000');
    const r = await cli('run', 'small');
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /^warning: a spooled record could not be read \(.*JSON.*\); set aside as .*\/root\/\.spool\/00000000-torn\.json\.unreadable: the run it holds is not in the catalogue$/m,
    );
    assert.deepEqual(readdirSync(join(root, '.spool')), ['00000000-torn.json.unreadable']);
    const again = await cli('run', 'small');
    assert.doesNotMatch(again.stderr, /warning/, 'a file set aside is reported once');
  });

  test('a full disk is reported as DISK_FULL naming the file system, not as pg_dump: Broken pipe', {
    skip: asRoot ? false : 'mounting a small tmpfs needs root',
  }, async () => {
    const small = join(base, 'small');
    mkdirSync(small, { recursive: true });
    await exec('mount', ['-t', 'tmpfs', '-o', 'size=2m,mode=0700', 'tmpfs', small]);
    try {
      // tar: pgbackman writes what pg_dump sends; custom and directory: pg_dump writes the files itself.
      for (const name of ['bulk', 'bulk-custom', 'bulk-dir']) {
        const r = await cli('run', name);
        assert.equal(r.code, 1, r.stdout);
        assert.match(r.stdout, /^Backup [0-9a-f-]{36} FAILED: FULL dump of /);
        assert.match(
          r.stderr,
          new RegExp(
            `^error\\[DISK_FULL\\]: no space left on the file system mounted at ${small} \\(2\\.0 MiB\\) while writing ${small}/n1/.*\\.partial; the dump was abandoned`,
            'm',
          ),
          name,
        );
        assert.doesNotMatch(r.stderr, /Broken pipe|SIGPIPE/);
        assert.deepEqual(
          readdirSync(small, { recursive: true, encoding: 'utf8' }).filter((p) => p.endsWith('.partial')),
          [],
        );
      }
    } finally {
      await exec('umount', [small]);
    }
  });

  test('a CLUSTER dump of a node with a newline in a database name names that database', async () => {
    const r = await cli('run', 'odd-cluster');
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, /^Backup [0-9a-f-]{36} FAILED: CLUSTER dump of the whole node on odd/);
    assert.match(
      r.stderr,
      /database "sales\\nq1" on odd has a newline in its name, and pg_dumpall refuses to dump such a database/,
    );
  });
});
