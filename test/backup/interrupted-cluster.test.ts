import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import pg from 'pg';
import { createTestCatalogue, type TestCatalogue } from '../support/catalogues.ts';
import { localSetup } from '../support/fixtures.ts';
import { REPO_ROOT, runCli, writeTree } from '../support/run-cli.ts';
import { withClient, withDatabase } from '../support/test-database.ts';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../support/throwaway-postgres.ts';

const exec = promisify(execFile);

let node: ThrowawayPostgres;
let catalogue: TestCatalogue;
let root: string;

before(async () => {
  // A cluster of its own: pg_dumpall walks every database, and must meet only this test's lock.
  node = await startThrowawayPostgres('cluster-interrupt');
  await withClient(node.url, (c) => c.query('create database locked'));
  await withClient(withDatabase(node.url, 'locked'), (c) => c.query('create table t (x int)'));
  catalogue = await createTestCatalogue('postgres', 'interrupted-cluster');
  root = await mkdtemp(join(tmpdir(), 'pgbackman-interrupted-cluster-'));
  const dir = await writeTree({
    'm.yaml': localSetup({ root, host: '127.0.0.1', port: node.port, definitions: { all: 'code: CLUSTER' } }),
  });
  assert.equal((await runCli(['--catalogue', catalogue.location, 'apply', dir, '--auto-approve'])).code, 0);
});
after(async () => {
  await catalogue?.drop();
  await node?.stop();
  await rm(root, { recursive: true, force: true });
});

test('an interrupted CLUSTER dump stops the pg_dump pg_dumpall started too: nothing is left running', async () => {
  const blocker = new pg.Client({ connectionString: withDatabase(node.url, 'locked') });
  await blocker.connect();
  await blocker.query('begin');
  await blocker.query('lock table t in access exclusive mode');
  const pgDumps = async () =>
    (
      await exec('pgrep', ['-f', `pg_dump.*port=${node.port}.*dbname=locked`]).catch(() => ({ stdout: '' }))
    ).stdout.trim();
  const child = spawn(
    process.execPath,
    [join(REPO_ROOT, 'bin/pgbackman.js'), '--catalogue', catalogue.location, 'run', 'all'],
    {
      env: { ...process.env, NO_COLOR: '1' },
    },
  );
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  try {
    for (let i = 0; i < 200 && (await pgDumps()) === ''; i++) await sleep(50);
    assert.notEqual(await pgDumps(), '', "pg_dumpall's pg_dump of the locked database did not start");
    child.kill('SIGTERM');
    assert.equal(await exited, 143);
    for (let i = 0; i < 40 && (await pgDumps()) !== ''; i++) await sleep(50);
    assert.equal(await pgDumps(), '', 'no pg_dump is left waiting on the lock');
  } finally {
    await blocker.query('rollback').catch(() => undefined);
    await blocker.end().catch(() => undefined);
  }
});
