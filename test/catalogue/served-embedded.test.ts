import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { connectServed } from '../../src/catalogue/connect-served.ts';
import { embeddedLockFile, embeddedSocketDir, readHolder } from '../../src/catalogue/embedded-lock.ts';
import { serveEmbedded } from '../../src/catalogue/serve-embedded.ts';
import { createTestCatalogue, type TestCatalogue } from '../support/catalogues.ts';
import { BASE, definition } from '../support/fixtures.ts';
import { assertNoStackTrace, REPO_ROOT, runCli, writeTree } from '../support/run-cli.ts';

/** Starts a process that prints `marker` once ready (the holder, or a client) and returns it then. */
async function startChild(args: readonly string[], marker: string): Promise<ChildProcessWithoutNullStreams> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: REPO_ROOT });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => {
    err += String(d);
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += String(d);
      if (out.includes(marker)) resolve();
    });
    child.on('exit', (code) => reject(new Error(`exited with ${code} before "${marker}":\n${out}\n${err}`)));
  });
  return child;
}

async function kill(child: ChildProcessWithoutNullStreams): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.on('exit', r));
  child.kill('SIGKILL');
  await exited;
}

// How long the holder lets a client idle in a transaction keep others waiting (30 s by default).
const IDLE_MS = 1_500;

describe('the embedded catalogue served by its holder', () => {
  let cat: TestCatalogue;
  let holder: ChildProcessWithoutNullStreams;
  const cli = async (...args: string[]) => {
    const r = await runCli(['--catalogue', cat.location, ...args]);
    assertNoStackTrace(r);
    return r;
  };
  before(async () => {
    cat = await createTestCatalogue('embedded', 'served');
    holder = await startChild(
      [join(REPO_ROOT, 'test/support/serve-embedded-holder.ts'), cat.location, String(IDLE_MS)],
      'ready',
    );
  });
  after(async () => {
    await kill(holder);
    await cat?.drop();
  });

  test('the lock names the socket directory, private to this user', () => {
    const lock = readHolder(embeddedLockFile(cat.location));
    assert.equal(lock?.pid, holder.pid);
    assert.equal(lock?.socket, embeddedSocketDir(cat.location));
    assert.equal(statSync(embeddedSocketDir(cat.location)).mode & 0o777, 0o700);
  });

  test('every command works from another process meanwhile, two of them at once', async () => {
    const manifests = await writeTree({ ...BASE, 'd.yaml': definition('served-one') });
    const applied = await cli('apply', manifests, '--auto-approve');
    assert.equal(applied.code, 0, applied.stderr);
    const listed = await cli('get', 'definitions', '-o', 'json');
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(
      (JSON.parse(listed.stdout) as { name: string }[]).map((d) => d.name),
      ['served-one'],
    );
    const planned = await cli('plan', manifests);
    assert.equal(planned.code, 0, planned.stderr);
    assert.match(planned.stdout, /No changes/);
    const described = await cli('describe', 'definition/served-one');
    assert.equal(described.code, 0, described.stderr);
    assert.match(described.stdout, /^address: BackupDefinition\/served-one\n/);
    const [status, again] = await Promise.all([cli('catalogue', 'status'), cli('plan', manifests)]);
    assert.equal(status.code, 0, status.stderr);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /No changes/);
    await rm(manifests, { recursive: true, force: true });
  });

  test('a client killed inside its transaction does not wedge the catalogue, and its changes are gone', async () => {
    const socketDir = embeddedSocketDir(cat.location);
    const client = await startChild(
      [
        '-e',
        `const { connectServed } = await import(${JSON.stringify(join(REPO_ROOT, 'src/catalogue/connect-served.ts'))});
         const db = await connectServed(${JSON.stringify(cat.location)}, ${JSON.stringify(socketDir)}, 'doomed');
         await db.exec('begin; create table public.doomed (x int); insert into public.doomed values (1)');
         console.log('in transaction');`,
      ],
      'in transaction',
    );
    await kill(client);
    const db = await connectServed(cat.location, socketDir, 'after');
    try {
      const [row] = await db.query<{ t: string | null }>("select to_regclass('public.doomed')::text as t");
      assert.equal(row?.t, null);
      const r = await cli('get', 'definitions', '-o', 'json');
      assert.equal(r.code, 0, r.stderr);
    } finally {
      await db.close();
    }
  });

  test('a live client idle in its transaction is cut off once others have waited for it', async () => {
    const socketDir = embeddedSocketDir(cat.location);
    const idle = await connectServed(cat.location, socketDir, 'idle');
    const other = await connectServed(cat.location, socketDir, 'other');
    try {
      await idle.exec('begin; create table public.idle (x int)');
      const t0 = Date.now();
      const [row] = await other.query<{ t: string | null }>("select to_regclass('public.idle')::text as t");
      const waited = Date.now() - t0;
      assert.equal(row?.t, null, 'the idle transaction was rolled back');
      assert.ok(waited >= IDLE_MS && waited < IDLE_MS + 5_000, `waited ${waited} ms`);
      await assert.rejects(
        idle.exec('commit'),
        'the idle client is disconnected, so it cannot believe it committed',
      );
    } finally {
      await idle.close().catch(() => undefined);
      await other.close();
    }
  });

  test('LISTEN on one socket client does not hear a NOTIFY from another (one shared backend)', async () => {
    const client = async () => {
      const c = new pg.Client({
        host: embeddedSocketDir(cat.location),
        port: 5432,
        user: 'postgres',
        database: 'postgres',
      });
      await c.connect();
      const heard: string[] = [];
      c.on('notification', (n) => heard.push(n.payload ?? ''));
      return { c, heard };
    };
    const listener = await client();
    const sender = await client();
    try {
      await listener.c.query('listen pgbackman_test');
      await sender.c.query("notify pgbackman_test, 'x'");
      await listener.c.query('select 1');
      await new Promise((r) => setTimeout(r, 200));
      // The notification goes out with whichever client's statement commits: the sender's, never the
      // listener's. So the agent cannot LISTEN here: it polls the catalogue serial instead.
      assert.deepEqual(listener.heard, []);
      assert.deepEqual(sender.heard, ['x']);
    } finally {
      await listener.c.query('unlisten *');
      await listener.c.end();
      await sender.c.end();
    }
  });

  test('after the holder is killed, the next command opens the directory and has everything', async () => {
    await kill(holder);
    const r = await cli('get', 'definitions', '-o', 'json');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      (JSON.parse(r.stdout) as { name: string }[]).map((d) => d.name),
      ['served-one'],
    );
    assert.equal(existsSync(embeddedSocketDir(cat.location)), false, 'the stale socket directory is removed');
    assert.equal(existsSync(embeddedLockFile(cat.location)), false, 'the command released its lock');
  });
});

describe('serving refuses what it must not use', () => {
  let work: string;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'pgbackman-serve-'));
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  test('a socket directory that is a symbolic link, before opening anything', async () => {
    const dir = join(work, 'catalogue');
    mkdirSync(join(work, 'elsewhere'), { mode: 0o700 });
    symlinkSync(join(work, 'elsewhere'), `${dir}.sock`);
    await assert.rejects(
      serveEmbedded(dir, 'test'),
      /socket directory .*catalogue\.sock: it is a symbolic link/,
    );
    assert.equal(existsSync(embeddedLockFile(dir)), false, 'the lock is released');
    assert.equal(existsSync(join(dir, 'PG_VERSION')), false, 'no catalogue was created');
  });

  test('a path too long for a Unix socket', async () => {
    const dir = join(work, 'x'.repeat(100), 'catalogue');
    await assert.rejects(serveEmbedded(dir, 'test'), (err: Error) => {
      assert.match(err.message, /longer than the 107 a Unix socket path may have/);
      return true;
    });
  });
});

describe('a live holder whose socket does not answer', () => {
  test('is waited for, then named: the directory is not opened', async () => {
    const work = await mkdtemp(join(tmpdir(), 'pgbackman-mute-'));
    try {
      const dir = join(work, 'catalogue');
      mkdirSync(dir, { mode: 0o700 });
      writeFileSync(join(dir, 'PG_VERSION'), '18\n');
      mkdirSync(`${dir}.sock`, { mode: 0o700 });
      // This test process stands for a holder that has announced its socket but not started listening.
      const lock = {
        pid: process.pid,
        command: 'pgbackman agent (mute)',
        since: 'now',
        socket: `${dir}.sock`,
      };
      writeFileSync(`${dir}.lock`, JSON.stringify(lock));
      const t0 = Date.now();
      const r = await runCli(['--catalogue', dir, 'catalogue', 'status']);
      assertNoStackTrace(r);
      assert.equal(r.code, 1);
      assert.ok(Date.now() - t0 >= 9_000, 'it waited for the socket');
      assert.match(
        r.stderr,
        new RegExp(
          `error\\[CATALOGUE_IN_USE\\]: the embedded catalogue .*catalogue is held by pid ${process.pid} \\(pgbackman agent \\(mute\\)\\) since now, which serves it on .*catalogue\\.sock, but nothing answers there`,
        ),
      );
      assert.deepEqual(readdirSync(dir).sort(), ['PG_VERSION'], 'the directory was not opened');
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});

describe('the holder closes cleanly', () => {
  test('close, with a client inside its transaction, releases the lock, removes the socket directory and leaves private files', async () => {
    const cat = await createTestCatalogue('embedded', 'served-close');
    try {
      const holder = await startChild(
        [join(REPO_ROOT, 'test/support/serve-embedded-holder.ts'), cat.location],
        'ready',
      );
      const client = await connectServed(cat.location, embeddedSocketDir(cat.location), 'left open');
      await client.exec('begin; create table public.unfinished (x int)');
      const exited = new Promise((r) => holder.on('exit', r));
      holder.stdin.write('close\n');
      assert.equal(await exited, 0);
      await client.close().catch(() => undefined);
      assert.equal(existsSync(embeddedLockFile(cat.location)), false);
      assert.equal(existsSync(embeddedSocketDir(cat.location)), false);
      assert.equal(statSync(join(cat.location, 'PG_VERSION')).mode & 0o777, 0o600);
      assert.equal(readFileSync(join(cat.location, 'PG_VERSION'), 'utf8').trim(), '18');
      const r = await runCli(['--catalogue', cat.location, 'catalogue', 'status']);
      assert.equal(r.code, 0, r.stderr);
    } finally {
      await cat.drop();
    }
  });
});
