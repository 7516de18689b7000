import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, execFile, spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import pg from 'pg';
import { BACKENDS, createTestCatalogue, type TestCatalogue } from '../support/catalogues.ts';
import { localSetup } from '../support/fixtures.ts';
import { assertNoStackTrace, REPO_ROOT, runCli, writeTree } from '../support/run-cli.ts';
import { testServerUrl, withClient, withDatabase } from '../support/test-database.ts';

const exec = promisify(execFile);

interface Finished {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

interface Row {
  readonly id: string;
  readonly definition: string;
  readonly status: string;
  readonly durationMs: number | null;
  readonly error: string | null;
}

/** Starts a process and collects what it prints; `done` resolves when it has ended. */
function start(args: readonly string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin/pgbackman.js'), ...args], {
    env: { ...process.env, NO_COLOR: '1', ...env },
  }) as ChildProcessWithoutNullStreams;
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (d) => {
    out.stdout += d;
  });
  child.stderr.on('data', (d) => {
    out.stderr += d;
  });
  const done = new Promise<Finished>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, ...out })),
  );
  return { child, done, out };
}

for (const backend of BACKENDS) {
  describe(`a run's hold on the ${backend} catalogue, and its record when it is killed`, () => {
    const db = `runlife_${backend}`;
    const other = `runlife_${backend}_other`;
    let catalogue: TestCatalogue;
    let root: string;
    before(async () => {
      catalogue = await createTestCatalogue(backend, `runlife-${backend}`);
      root = await mkdtemp(join(tmpdir(), `pgbackman-runlife-${backend}-`));
      await withClient(testServerUrl(), async (c) => {
        for (const name of [db, other]) {
          await c.query(`drop database if exists ${name} with (force)`);
          await c.query(`create database ${name}`);
        }
      });
      for (const name of [db, other])
        await withClient(withDatabase(testServerUrl(), name), (c) =>
          c.query('create table t as select g from generate_series(1, 1000) g'),
        );
      const node = new URL(testServerUrl());
      const dir = await writeTree({
        'm.yaml': localSetup({
          root,
          host: node.hostname,
          port: node.port,
          definitions: { slow: `database: ${db}`, quick: `database: ${other}` },
        }),
      });
      const r = await cli('apply', dir, '--auto-approve');
      assert.equal(r.code, 0, r.stderr);
    });
    after(async () => {
      await catalogue?.drop();
      await rm(root, { recursive: true, force: true });
      await withClient(testServerUrl(), async (c) => {
        for (const name of [db, other]) await c.query(`drop database if exists ${name} with (force)`);
      });
    });

    const cli = (...args: string[]) => runCli(['--catalogue', catalogue.location, ...args]);
    const runs = async (): Promise<Row[]> => {
      const r = await cli('get', 'backups', '-o', 'json');
      assertNoStackTrace(r);
      assert.equal(r.code, 0, `get backups failed: ${r.stderr}`);
      return JSON.parse(r.stdout) as Row[];
    };
    const partials = () =>
      existsSync(join(root, 'n1', db))
        ? readdirSync(join(root, 'n1', db)).filter((d) => d.endsWith('.partial'))
        : [];
    const pgDumps = async () =>
      (await exec('pgrep', ['-f', `pg_dump .*dbname='${db}'`]).catch(() => ({ stdout: '' }))).stdout.trim();

    /** `pgbackman run slow` while a lock holds its pg_dump; resolves once pg_dump is waiting on the lock. */
    async function startBlockedRun() {
      const blocker = new pg.Client({ connectionString: withDatabase(testServerUrl(), db) });
      await blocker.connect();
      await blocker.query('begin');
      await blocker.query('lock table t in access exclusive mode');
      const spawnedAt = Date.now();
      const run = start(['--catalogue', catalogue.location, 'run', 'slow']);
      for (let i = 0; i < 300 && (partials().length === 0 || (await pgDumps()) === ''); i++) await sleep(50);
      assert.equal(partials().length, 1, `the run did not start: ${run.out.stderr}`);
      const unblock = async () => {
        await blocker.query('rollback');
        await blocker.end();
      };
      return { ...run, spawnedAt, unblock };
    }

    test('while a dump runs, get backups shows it RUNNING and another definition records its run directly', async () => {
      const slow = await startBlockedRun();
      try {
        const during = await runs();
        const running = during.filter((r) => r.status === 'RUNNING');
        assert.deepEqual(
          running.map((r) => r.definition),
          ['slow'],
        );
        const quick = await cli('run', 'quick');
        assertNoStackTrace(quick);
        assert.equal(quick.code, 0, quick.stderr);
        assert.match(quick.stdout, /^Backup \S+ SUCCEEDED: FULL dump of runlife_\w+ on n1/);
        assert.doesNotMatch(quick.stderr, /warning|spool/);
        const quickId = /^Backup (\S+) SUCCEEDED/.exec(quick.stdout)?.[1];
        assert.equal((await runs()).find((r) => r.id === quickId)?.status, 'SUCCEEDED');
      } finally {
        await slow.unblock();
      }
      const r = await slow.done;
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stderr, /warning|spool/);
      const id = /^Backup (\S+) SUCCEEDED/.exec(r.stdout)?.[1];
      assert.equal((await runs()).find((x) => x.id === id)?.status, 'SUCCEEDED');
    });

    /** Another process holding the embedded catalogue (as a one-shot command would) until `release()`. */
    async function holdCatalogue() {
      const holder = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          '-e',
          `const { connectEmbedded } = await import(${JSON.stringify(join(REPO_ROOT, 'src/catalogue/connect-embedded.ts'))});
           const db = await connectEmbedded(${JSON.stringify(catalogue.location)}, 'pgbackman get (test)');
           console.log('open');
           process.stdin.on('data', async () => { await db.close(); process.exit(0); });`,
        ],
        { cwd: REPO_ROOT },
      );
      let stderr = '';
      holder.stderr.on('data', (d) => {
        stderr += d;
      });
      await new Promise<void>((resolve, reject) => {
        holder.stdout.on('data', (d) => String(d).includes('open') && resolve());
        holder.on('exit', () => reject(new Error(`could not hold the catalogue: ${stderr}`)));
      });
      return async () => {
        holder.stdin.write('close\n');
        await new Promise((r) => holder.on('exit', r));
      };
    }

    if (backend === 'embedded') {
      test('the catalogue held by another process when the end is recorded: the run waits for it briefly', async () => {
        const slow = await startBlockedRun();
        const release = await holdCatalogue();
        await slow.unblock();
        await sleep(1500);
        await release();
        const r = await slow.done;
        assert.equal(r.code, 0, r.stderr);
        assert.doesNotMatch(r.stderr, /warning|spool/);
        const id = /^Backup (\S+) SUCCEEDED/.exec(r.stdout)?.[1];
        assert.equal((await runs()).find((x) => x.id === id)?.status, 'SUCCEEDED');
      });

      test('held for longer than that: the end waits in the spool and the next run sends it', async () => {
        const slow = await startBlockedRun();
        const release = await holdCatalogue();
        await slow.unblock();
        const r = await slow.done;
        await release();
        assert.equal(r.code, 0, r.stderr);
        assert.match(
          r.stderr,
          /note: this run's record waits in the spool .*in use by pid \d+ \(pgbackman get \(test\)\)/,
        );
        const id = /^Backup (\S+) SUCCEEDED/.exec(r.stdout)?.[1];
        assert.equal((await runs()).find((x) => x.id === id)?.status, 'RUNNING', 'its start was recorded');
        const next = await cli('run', 'slow');
        assert.equal(next.code, 0, next.stderr);
        assert.match(next.stderr, /note: 1 record\(s\) waiting in the spool reached the catalogue/);
        assert.equal((await runs()).find((x) => x.id === id)?.status, 'SUCCEEDED');
      });
    }

    test('SIGKILL: the RUNNING row is left, and the next run closes it with the time it was last alive', async () => {
      const slow = await startBlockedRun();
      await sleep(3000);
      slow.child.kill('SIGKILL');
      const killedAt = Date.now();
      assert.equal((await slow.done).signal, 'SIGKILL');
      for (let i = 0; i < 60 && (await pgDumps()) !== ''; i++) await sleep(50);
      await exec('pkill', ['-f', `pg_dump .*dbname='${db}'`]).catch(() => undefined);
      await slow.unblock();
      const lost = (await runs()).find((r) => r.status === 'RUNNING');
      assert.ok(lost, 'the killed run is RUNNING in the catalogue');
      await sleep(3000); // time that must not count as the killed run's

      const next = await cli('run', 'slow');
      assertNoStackTrace(next);
      assert.equal(next.code, 0, next.stderr);
      assert.match(
        next.stderr,
        /note: an earlier run of BackupDefinition\/slow \([0-9a-f-]{36}\) was left RUNNING by a process that stopped/,
      );
      assert.deepEqual(partials(), []);
      const closed = (await runs()).find((r) => r.id === lost.id);
      assert.equal(closed?.status, 'FAILED');
      assert.match(closed?.error ?? '', /^interrupted: the process taking this dump stopped/);
      const duration = closed?.durationMs ?? Number.NaN;
      const alive = killedAt - slow.spawnedAt;
      // Within the heartbeat (2 s) of the kill, and never the wait after it.
      assert.ok(duration <= alive + 500, `recorded ${duration} ms for a run killed after ${alive} ms`);
      assert.ok(duration >= 3000 - 2500, `recorded ${duration} ms for a run killed after ${alive} ms`);
    });
  });
}
