import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { createTestCatalogue, type TestCatalogue } from '../support/catalogues.ts';
import { localSetup } from '../support/fixtures.ts';
import { assertNoStackTrace, runCli, writeTree } from '../support/run-cli.ts';
import { createSourceDatabase, testServerUrl, withClient } from '../support/test-database.ts';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../support/throwaway-postgres.ts';

const exec = promisify(execFile);
const SOURCE = 'restore_timeout_src';

describe('a restore onto a node that stops answering', () => {
  let catalogue: TestCatalogue;
  let root: string;
  let target: ThrowawayPostgres;
  let backupId: string;
  const cli = (...args: string[]) => runCli(['--catalogue', catalogue.location, ...args]);
  const pgRestoresOn = async (port: number) =>
    (await exec('pgrep', ['-f', `pg_restore .*port='${port}'`]).catch(() => ({ stdout: '' }))).stdout.trim();

  /** Runs the command, SIGSTOPs the target once its pg_restore runs, and thaws it when the command is done. */
  async function frozenWhileRestoring(...args: string[]) {
    const startedAt = Date.now();
    const running = cli(...args);
    for (let i = 0; i < 400 && (await pgRestoresOn(target.port)) === ''; i++)
      await new Promise((r) => setTimeout(r, 25));
    assert.notEqual(await pgRestoresOn(target.port), '', 'pg_restore started');
    await target.freeze();
    try {
      return { r: await running, took: Date.now() - startedAt };
    } finally {
      await target.thaw();
    }
  }

  before(async () => {
    catalogue = await createTestCatalogue('postgres', 'restore-timeout');
    root = await mkdtemp(join(tmpdir(), 'pgbackman-restore-timeout-'));
    target = await startThrowawayPostgres('restore-timeout-target');
    // Large enough that pg_restore is still copying when the target is frozen.
    await createSourceDatabase(
      SOURCE,
      `create table t as select g, md5(g::text) as h from generate_series(1, 1500000) g`,
    );
    const node = new URL(testServerUrl());
    const at = new URL(target.url);
    const setup = localSetup({
      root,
      host: node.hostname,
      port: node.port,
      definitions: { src: `database: ${SOURCE}` },
    });
    const dir = await writeTree({
      'm.yaml': `${setup}---\napiVersion: pgbackman.io/v1\nkind: PgSQLNode\nmetadata: {name: frozen}\nspec: {host: ${at.hostname}, port: ${at.port}}\n`,
    });
    assert.equal((await cli('apply', dir, '--auto-approve')).code, 0);
    const run = await cli('run', 'src');
    assert.equal(run.code, 0, run.stderr);
    backupId = /^Backup (\S+) SUCCEEDED/.exec(run.stdout)?.[1] as string;
  });
  after(async () => {
    await target?.thaw().catch(() => undefined);
    await target?.stop();
    await withClient(testServerUrl(), (c) => c.query(`drop database if exists ${SOURCE} with (force)`));
    await catalogue?.drop();
    await rm(root, { recursive: true, force: true });
  });

  test('--timeout stops it: pg_restore, stuck asking the frozen node to cancel, is killed; FAILED saying what the target holds', async () => {
    const { r, took } = await frozenWhileRestoring(
      'restore',
      backupId,
      '--node',
      'frozen',
      '--database',
      'copy',
      '--timeout',
      '2s',
    );
    assertNoStackTrace(r);
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /error\[RESTORE_FAILED\]: restore \w{8} failed: took longer than --timeout \(2 s\): stopped/,
    );
    assert.match(r.stderr, /"copy"/, 'it says what the target holds');
    // The timeout at 2 s, SIGKILL 10 s after SIGTERM, the target's connection dropped within 2 s.
    assert.ok(took < 30_000, `stopped after ${took} ms`);
    assert.equal(await pgRestoresOn(target.port), '', 'no pg_restore is left');
    const restores = JSON.parse((await cli('get', 'restores', '-o', 'json')).stdout) as {
      status: string;
      error: string | null;
    }[];
    assert.equal(restores[0]?.status, 'FAILED');
    assert.match(restores[0]?.error ?? '', /^took longer than --timeout/);
  });

  test('verify --restore --timeout: the restore test onto the frozen node ends VERIFY_FAILED instead of waiting for it', async () => {
    const { r, took } = await frozenWhileRestoring(
      'verify',
      backupId,
      '--restore',
      '--node',
      'frozen',
      '--timeout',
      '2s',
    );
    assertNoStackTrace(r);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /VERIFY_FAILED: .*took longer than --timeout \(2 s\): stopped/);
    // The timeout, SIGKILL 10 s later, then the scratch database's drop gives up on the frozen node.
    assert.ok(took < 45_000, `stopped after ${took} ms`);
    assert.equal(await pgRestoresOn(target.port), '');
  });

  test('validate: a RestoreDefinition timeout of zero is refused with its file and line', async () => {
    const dir = await writeTree({
      'm.yaml': `${localSetup({ root, host: '127.0.0.1', port: 5432, definitions: { src: 'database: a' } })}---\napiVersion: pgbackman.io/v1\nkind: RestoreDefinition\nmetadata: {name: back}\nspec: {source: {definition: src}, target: {node: n1, database: b}, timeout: 0s}\n`,
    });
    const r = await runCli(['validate', dir]);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout + r.stderr, /m\.yaml:\d+:\d+.*duration "0s" must be longer than zero/);
  });
});
