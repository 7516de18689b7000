import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import pg from 'pg';
import { dumpLayout } from '../../src/backup/files/layout.ts';
import { removeDeadPartials } from '../../src/backup/files/owner-mark.ts';
import { createTestCatalogue, type TestCatalogue } from '../support/catalogues.ts';
import { localSetup } from '../support/fixtures.ts';
import { assertNoStackTrace, REPO_ROOT, runCli, writeTree } from '../support/run-cli.ts';
import { testServerUrl, withClient, withDatabase } from '../support/test-database.ts';

const exec = promisify(execFile);
const DB = 'interrupt_me';

interface Finished {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

describe('a run that is interrupted', () => {
  let catalogue: TestCatalogue;
  let root: string;
  before(async () => {
    catalogue = await createTestCatalogue('postgres', 'interrupted');
    root = await mkdtemp(join(tmpdir(), 'pgbackman-interrupted-'));
    await withClient(testServerUrl(), async (c) => {
      await c.query(`drop database if exists ${DB} with (force)`);
      await c.query(`create database ${DB}`);
    });
    await withClient(withDatabase(testServerUrl(), DB), (c) =>
      c.query('create table t as select g from generate_series(1, 1000) g'),
    );
    const node = new URL(testServerUrl());
    const dir = await writeTree({
      'm.yaml': localSetup({
        root,
        host: node.hostname,
        port: node.port,
        definitions: { slow: `database: ${DB}` },
      }),
    });
    const r = await cli('apply', dir, '--auto-approve');
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    await catalogue?.drop();
    await rm(root, { recursive: true, force: true });
  });

  const cli = (...args: string[]) => runCli(['--catalogue', catalogue.location, ...args]);
  const runs = async () =>
    JSON.parse((await cli('get', 'backups', '-o', 'json')).stdout) as {
      id: string;
      status: string;
      error: string | null;
    }[];
  const partials = () =>
    existsSync(join(root, 'n1', DB))
      ? readdirSync(join(root, 'n1', DB)).filter((d) => d.endsWith('.partial'))
      : [];
  const pgDumps = async () =>
    (await exec('pgrep', ['-f', `pg_dump .*dbname='${DB}'`]).catch(() => ({ stdout: '' }))).stdout.trim();

  /** Starts `pgbackman run slow` while a lock holds pg_dump inside its work; resolves once its files exist. */
  async function startBlockedRun() {
    const blocker = new pg.Client({ connectionString: withDatabase(testServerUrl(), DB) });
    await blocker.connect();
    await blocker.query('begin');
    await blocker.query('lock table t in access exclusive mode');
    const child = spawn(
      process.execPath,
      [join(REPO_ROOT, 'bin/pgbackman.js'), '--catalogue', catalogue.location, 'run', 'slow'],
      { env: { ...process.env, NO_COLOR: '1' } },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const done = new Promise<Finished>((resolve) =>
      child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
    );
    for (let i = 0; i < 200 && (partials().length === 0 || (await pgDumps()) === ''); i++) await sleep(50);
    assert.equal(partials().length, 1, `the run did not start: ${stderr}`);
    const unblock = async () => {
      await blocker.query('rollback');
      await blocker.end();
    };
    return { child, done, unblock };
  }

  test('SIGTERM: pg_dump is stopped, the files removed, the run recorded FAILED as interrupted', async () => {
    const { child, done, unblock } = await startBlockedRun();
    child.kill('SIGTERM');
    const r = await done;
    await unblock();
    assert.equal(r.code, 143, 'stopped by SIGTERM: 128 + 15, as shells and schedulers expect');
    assert.match(r.stderr, /SIGTERM: interrupting the dump/);
    assert.match(r.stdout, /^Backup \S+ FAILED: FULL dump of interrupt_me on n1/);
    assert.match(r.stderr, /error\[INTERRUPTED\]: interrupted by SIGTERM before it finished/);
    assert.doesNotMatch(r.stderr, /^\s+at /m);
    assert.deepEqual(partials(), []);
    assert.equal(await pgDumps(), '', 'no pg_dump is left running');
    const [last] = await runs();
    assert.equal(last?.status, 'FAILED');
    assert.match(last?.error ?? '', /interrupted by SIGTERM/);
  });

  test('SIGINT (Ctrl-C): exit 130, and the message names SIGINT', async () => {
    const { child, done, unblock } = await startBlockedRun();
    child.kill('SIGINT');
    const r = await done;
    await unblock();
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.stderr, /SIGINT: interrupting the dump/);
    assert.match(r.stderr, /error\[INTERRUPTED\]: interrupted by SIGINT before it finished/);
    assert.deepEqual(partials(), []);
    const [last] = await runs();
    assert.match(last?.error ?? '', /interrupted by SIGINT/);
  });

  test('SIGKILL: the next run records the lost run FAILED and removes its partial files', async () => {
    const { child, done, unblock } = await startBlockedRun();
    child.kill('SIGKILL');
    assert.equal((await done).signal, 'SIGKILL');
    // pg_dump does not outlive pgbackman (the kernel's parent-death signal, set through setpriv), even while
    // it waits on a lock: it holds no snapshot open on the node.
    if (existsSync('/usr/bin/setpriv')) {
      for (let i = 0; i < 60 && (await pgDumps()) !== ''; i++) await sleep(50);
      assert.equal(await pgDumps(), '', 'pg_dump ended with pgbackman');
    } else await exec('pkill', ['-f', `pg_dump .*dbname='${DB}'`]).catch(() => undefined);
    await unblock();
    const lost = (await runs()).find((r) => r.status === 'RUNNING');
    assert.ok(lost, 'the killed run is still RUNNING in the catalogue');
    assert.equal(partials().length, 1, 'and its partial directory is still there');

    const next = await cli('run', 'slow');
    assertNoStackTrace(next);
    assert.equal(next.code, 0, next.stderr);
    assert.match(
      next.stderr,
      /note: an earlier run of BackupDefinition\/slow \([0-9a-f-]{36}\) was left RUNNING by a process that stopped/,
    );
    assert.deepEqual(partials(), []);
    const after = await runs();
    const closed = after.find((r) => r.id === lost.id);
    assert.equal(closed?.status, 'FAILED');
    assert.match(
      closed?.error ?? '',
      /^interrupted: the process taking this dump stopped before it finished/,
    );
    assert.equal(after.filter((r) => r.status === 'RUNNING').length, 0);
  });

  test('a process killed after its dump was in place: the next run hashes it and records it SUCCEEDED', async () => {
    const first = await cli('run', 'slow');
    assert.equal(first.code, 0, first.stderr);
    const id = /^Backup (\S+) SUCCEEDED/.exec(first.stdout)?.[1] as string;
    const before = (await runs()).find((r) => r.id === id) as unknown as Record<string, unknown>;
    // As if the process died between renaming the directory and recording the end.
    const gone = spawnSync(process.execPath, ['-e', '0']).pid;
    await withClient(catalogue.location, (c) =>
      c.query(
        `update pgbackman.backup_runs set status = 'RUNNING', finished_at = null, dump_path = null, sha256 = null,
                host = $2, pid = $3 where id = $1`,
        [id, hostname(), gone],
      ),
    );
    const next = await cli('run', 'slow');
    assert.equal(next.code, 0, next.stderr);
    assert.match(
      next.stderr,
      /note: an earlier run of BackupDefinition\/slow \([0-9a-f-]{36}\) had put its dump in place/,
    );
    const after = (await runs()).find((r) => r.id === id) as unknown as Record<string, unknown>;
    assert.equal(after.status, 'SUCCEEDED');
    assert.equal(after.dumpPath, before.dumpPath);
    assert.deepEqual(after.sha256, before.sha256, 'the files hash as they did when written');
  });
});

describe('partial directories left behind', () => {
  test('only those whose process on this host is gone are emptied, keeping the mark that says when it was last alive; a live run of the same name keeps its own', async () => {
    const root = await mkdtemp(join(tmpdir(), 'pgbackman-partials-'));
    try {
      const at = new Date('2026-11-25T01:02:03Z');
      const place = (id: string) => dumpLayout(root, 'n1', 'shop', 'FULL', 'shop', at, id);
      const current = place('cccccccc-0000-4000-8000-000000000000');
      const owners: Record<string, object | null> = {
        'aaaaaaaa-0000-4000-8000-000000000000': { host: hostname(), pid: process.pid }, // a live run (a snapshot named shop)
        'bbbbbbbb-0000-4000-8000-000000000000': {
          host: hostname(),
          pid: spawnSync(process.execPath, ['-e', '0']).pid,
        },
        'dddddddd-0000-4000-8000-000000000000': { host: 'another-host', pid: 1 },
        'eeeeeeee-0000-4000-8000-000000000000': null, // no owner mark: cannot be judged
      };
      for (const [id, owner] of Object.entries(owners)) {
        await mkdir(join(place(id).partial, 'database.dir'), { recursive: true });
        writeFileSync(join(place(id).partial, 'database.dir', 'toc.dat'), 'x');
        if (owner !== null) writeFileSync(join(place(id).partial, '.owner.json'), JSON.stringify(owner));
      }
      await mkdir(current.partial, { recursive: true });
      const removed = await removeDeadPartials(current, 'shop');
      assert.deepEqual(removed, [place('bbbbbbbb-0000-4000-8000-000000000000').partial]);
      const contents = (id: string) => readdirSync(place(id).partial).sort();
      assert.deepEqual(contents('bbbbbbbb-0000-4000-8000-000000000000'), ['.owner.json']);
      for (const id of ['aaaaaaaa', 'dddddddd', 'eeeeeeee'])
        assert.ok(
          contents(`${id}-0000-4000-8000-000000000000`).includes('database.dir'),
          `${id} is left alone`,
        );
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
