import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import pg from 'pg';
import { createTestCatalogue, type TestCatalogue } from '../support/catalogues.ts';
import { localSetup } from '../support/fixtures.ts';
import { assertNoStackTrace, runCli, writeTree } from '../support/run-cli.ts';
import { testServerUrl, withClient, withDatabase } from '../support/test-database.ts';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../support/throwaway-postgres.ts';

const exec = promisify(execFile);
const DB = 'timeout_me';

interface BackupRow {
  readonly id: string;
  readonly status: string;
  readonly error: string | null;
}

/** A node whose database has a table t that `lock()` holds ACCESS EXCLUSIVE: pg_dump waits for it. */
async function prepareNode(url: string): Promise<{ lock(): Promise<() => Promise<void>> }> {
  await withClient(url, async (c) => {
    await c.query(`drop database if exists ${DB} with (force)`);
    await c.query(`create database ${DB}`);
  });
  await withClient(withDatabase(url, DB), (c) =>
    c.query('create table t as select g from generate_series(1, 1000) g'),
  );
  return {
    async lock() {
      const holder = new pg.Client({ connectionString: withDatabase(url, DB) });
      await holder.connect();
      await holder.query('begin');
      await holder.query('lock table t in access exclusive mode');
      return async () => {
        await holder.query('rollback');
        await holder.end();
      };
    },
  };
}

describe('a dump that takes longer than its timeout', () => {
  let catalogue: TestCatalogue;
  let root: string;
  let frozenNode: ThrowawayPostgres;
  before(async () => {
    catalogue = await createTestCatalogue('postgres', 'timeout');
    root = await mkdtemp(join(tmpdir(), 'pgbackman-timeout-'));
    frozenNode = await startThrowawayPostgres('timeout-node');
  });
  after(async () => {
    await frozenNode?.thaw().catch(() => undefined);
    await frozenNode?.stop();
    await catalogue?.drop();
    await rm(root, { recursive: true, force: true });
  });

  const cli = (...args: string[]) => runCli(['--catalogue', catalogue.location, ...args]);
  const runsOf = async (node: string) => {
    const r = await cli('get', 'backups', '--node', node, '-o', 'json');
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as BackupRow[];
  };
  const partials = (node: string) =>
    existsSync(join(root, node, DB))
      ? readdirSync(join(root, node, DB)).filter((d) => d.endsWith('.partial'))
      : [];
  const pgDumpsOn = async (port: string | number) =>
    (
      await exec('pgrep', ['-f', `pg_dump .*port='${port}'.*dbname='${DB}'`]).catch(() => ({ stdout: '' }))
    ).stdout.trim();

  async function applyNode(node: string, url: string, timeout: string): Promise<void> {
    const at = new URL(url);
    const dir = await writeTree({
      'm.yaml': localSetup({
        root,
        host: at.hostname,
        port: at.port,
        nodeName: node,
        definitions: { [`${node}-d`]: `database: ${DB}, timeout: ${timeout}` },
      }),
    });
    const r = await cli('apply', dir, '--auto-approve');
    assert.equal(r.code, 0, r.stderr);
  }

  test('pg_dump waiting for a lock is stopped at the timeout: FAILED with code TIMEOUT, no files, the lock holder untouched', async () => {
    const node = await prepareNode(testServerUrl());
    await applyNode('n1', testServerUrl(), '2s');
    const unlock = await node.lock();
    try {
      const startedAt = Date.now();
      const r = await cli('run', 'n1-d');
      const took = Date.now() - startedAt;
      assertNoStackTrace(r);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stdout, /^Backup \S+ FAILED: FULL dump of timeout_me on n1/);
      assert.match(
        r.stderr,
        /error\[TIMEOUT\]: took longer than its timeout of 2s: stopped and its files removed \(the node may have stopped answering, or pg_dump waited for a lock; if the dump needs longer, raise timeout\)/,
      );
      assert.ok(took >= 2000 && took < 15_000, `stopped after ${took} ms`);
      assert.deepEqual(partials('n1'), []);
      assert.equal(await pgDumpsOn(new URL(testServerUrl()).port), '', 'no pg_dump is left running');
      const [last] = await runsOf('n1');
      assert.equal(last?.status, 'FAILED');
      assert.match(last?.error ?? '', /^took longer than its timeout of 2s/);
    } finally {
      await unlock();
    }
    // Once nothing holds the table, the same definition dumps as usual.
    const ok = await cli('run', 'n1-d');
    assert.equal(ok.code, 0, ok.stderr);
  });

  test('a node that stops answering mid-dump (SIGSTOPped): pg_dump, stuck asking it to cancel, is killed; the run ends FAILED', async () => {
    const node = await prepareNode(frozenNode.url);
    await applyNode('n2', frozenNode.url, '2s');
    const unlock = await node.lock();
    const startedAt = Date.now();
    const run = cli('run', 'n2-d');
    // pg_dump is connected and waiting inside the dump when the whole node stops.
    for (let i = 0; i < 200 && (await pgDumpsOn(frozenNode.port)) === ''; i++)
      await new Promise((r) => setTimeout(r, 25));
    assert.notEqual(await pgDumpsOn(frozenNode.port), '', 'pg_dump started');
    await frozenNode.freeze();
    let r: Awaited<typeof run>;
    try {
      r = await run;
    } finally {
      await frozenNode.thaw();
      await unlock();
    }
    const took = Date.now() - startedAt;
    assertNoStackTrace(r);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /error\[TIMEOUT\]: took longer than its timeout of 2s/);
    // SIGTERM at 2 s, SIGKILL 10 s later: the run did not wait for the node to come back.
    assert.ok(took < 30_000, `stopped after ${took} ms`);
    assert.deepEqual(partials('n2'), []);
    assert.equal(await pgDumpsOn(frozenNode.port), '');
    const [last] = await runsOf('n2');
    assert.equal(last?.status, 'FAILED');
  });

  test('validate: a timeout of zero or without a unit is refused with its file and line', async () => {
    const dir = await writeTree({
      'm.yaml': localSetup({
        root,
        host: '127.0.0.1',
        port: 5432,
        definitions: { zero: 'database: a, timeout: 0m', bare: 'database: b, timeout: "90"' },
      }),
    });
    const r = await runCli(['validate', dir]);
    assert.equal(r.code, 1, r.stdout);
    const out = r.stdout + r.stderr;
    assert.match(out, /m\.yaml:\d+:\d+.*duration "0m" must be longer than zero/);
    assert.match(out, /m\.yaml:\d+:\d+.*timeout/);
  });
});
