import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createTestCatalogue, type TestCatalogue } from '../support/catalogues.ts';
import { assertNoStackTrace, REPO_ROOT, runCli } from '../support/run-cli.ts';
import { withClient } from '../support/test-database.ts';

describe('where the catalogue is: a wrong location is an error, never an empty catalogue', () => {
  let cwd: string;
  before(async () => {
    cwd = await mkdtemp(join(tmpdir(), 'pgbackman-location-'));
  });
  after(() => rm(cwd, { recursive: true, force: true }));
  const cli = async (args: string[], env: NodeJS.ProcessEnv = {}) => {
    const r = await runCli(args, { cwd, env: { PGBACKMAN_CATALOGUE: '', ...env } });
    assertNoStackTrace(r);
    return r;
  };

  test('another scheme is refused (exit 64) and creates nothing', async () => {
    for (const args of [
      ['--catalogue', 'mysql://x', 'get', 'definitions'],
      ['--catalogue', 'sqlite:cat.db', 'get', 'backups'],
    ]) {
      const r = await cli(args);
      assert.equal(r.code, 64, r.stderr);
      assert.match(r.stderr, /^error\[USAGE\]: --catalogue: "(mysql|sqlite):" is not a catalogue scheme/);
    }
    const env = await cli(['get', 'backups'], { PGBACKMAN_CATALOGUE: 'mysql://x' });
    assert.equal(env.code, 64);
    assert.deepEqual(readdirSync(cwd), [], 'no directory was made');
  });

  test('no embedded catalogue: every reader says where it looked and what to do, exit 1, and creates nothing', async () => {
    for (const args of [
      ['get', 'definitions'],
      ['get', 'backups'],
      ['describe', 'definition/x'],
      ['run', 'x'],
      ['verify', '--all'],
      ['plan', join(REPO_ROOT, 'manifests')],
      ['catalogue', 'status'],
    ]) {
      const r = await cli(args);
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.match(
        r.stderr,
        new RegExp(
          `error\\[CATALOGUE_NOT_FOUND\\]: no catalogue at ${cwd}/\\.pgbackman/catalogue .*pgbackman apply.*--catalogue`,
        ),
        args.join(' '),
      );
      assert.doesNotMatch(r.stderr, /No \w+ found/);
    }
    assert.deepEqual(readdirSync(cwd), [], 'nothing was created');
  });

  test('apply creates the embedded catalogue, readable only by its owner', async () => {
    const r = await cli(['apply', join(REPO_ROOT, 'manifests'), '--auto-approve']);
    assert.equal(r.code, 0, r.stderr);
    const dir = join(cwd, '.pgbackman', 'catalogue');
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    for (const f of ['PG_VERSION', 'postgresql.conf']) {
      if (existsSync(join(dir, f))) assert.equal(statSync(join(dir, f)).mode & 0o077, 0, f);
    }
    const get = await cli(['get', 'definitions']);
    assert.equal(get.code, 0, get.stderr);
    assert.match(get.stdout, /localhost-postgres/);
  });
});

describe('libpq keyword/value strings name a PostgreSQL catalogue', () => {
  let catalogue: TestCatalogue;
  before(async () => {
    catalogue = await createTestCatalogue('postgres', 'keywords');
  });
  after(() => catalogue?.drop());

  test('"host=… port=… dbname=… user=…" is used as libpq would, and its password is never printed', async () => {
    const u = new URL(catalogue.location);
    const keywords = `host=${u.hostname} port=${u.port} dbname=${u.pathname.slice(1)} user=${decodeURIComponent(u.username)} password='${decodeURIComponent(u.password)}'`;
    const r = await runCli(['--catalogue', keywords, 'catalogue', 'status']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /schema version/i);
    const bad = await runCli([
      '--catalogue',
      `host=${u.hostname} port=1 password=s3cret dbname=x`,
      'get',
      'backups',
    ]);
    assert.equal(bad.code, 1);
    assert.match(
      bad.stderr,
      /^error\[CATALOGUE_UNREACHABLE\]: cannot connect to the catalogue at host=\S+ port=1 password=\*\*\* dbname=x/,
    );
    assert.doesNotMatch(bad.stderr, /s3cret/);
    const typo = await runCli(['--catalogue', 'host=db dbnmae=x', 'get', 'backups']);
    assert.equal(typo.code, 64);
    assert.match(typo.stderr, /unknown connection keyword "dbnmae"/);
  });
});

describe('verify results are visible where people look', () => {
  let catalogue: TestCatalogue;
  const ids = { ok: randomUUID(), corrupt: randomUUID(), never: randomUUID(), failed: randomUUID() };
  const cli = async (...args: string[]) => {
    const r = await runCli(['--catalogue', catalogue.location, ...args]);
    assertNoStackTrace(r);
    return r;
  };
  before(async () => {
    catalogue = await createTestCatalogue('postgres', 'verifyview');
    await withClient(catalogue.location, async (c) => {
      const row = (id: string, status: string, verify: string | null, minute: number) =>
        c.query(
          `insert into pgbackman.backup_runs (id, server, node, database, code, definition, status, started_at, finished_at,
                  duration_ms, error, verify_status, verified_at)
           values ($1, 's', 'n', 'shop', 'FULL', 'd', $2, $3, $3, 1000, $4, $5, case when $5::text is null then null else now() end)`,
          [id, status, `2026-11-30T10:0${minute}:00Z`, status === 'FAILED' ? 'pg_dump: boom' : null, verify],
        );
      await row(ids.ok, 'SUCCEEDED', 'OK', 1);
      await row(ids.corrupt, 'SUCCEEDED', 'CORRUPT', 2);
      await row(ids.never, 'SUCCEEDED', null, 3);
      await row(ids.failed, 'FAILED', null, 4);
    });
  });
  after(() => catalogue?.drop());

  test('get backups has a VERIFY column, and -o json the verify fields', async () => {
    const r = await cli('get', 'backups');
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^ID\s+STATUS\s+VERIFY\s+SERVER/);
    assert.match(r.stdout, new RegExp(`${ids.corrupt.slice(0, 8)}\\s+SUCCEEDED\\s+CORRUPT`));
    assert.match(r.stdout, new RegExp(`${ids.never.slice(0, 8)}\\s+SUCCEEDED\\s+-`));
    const json = JSON.parse((await cli('get', 'backups', '-o', 'json')).stdout) as {
      id: string;
      verifyStatus: string | null;
      verifiedAt: string | null;
    }[];
    const corrupt = json.find((b) => b.id === ids.corrupt);
    assert.equal(corrupt?.verifyStatus, 'CORRUPT');
    assert.match(corrupt?.verifiedAt ?? '', /^\d{4}-/);
  });

  test('--verify filters by the last result (NONE: never verified)', async () => {
    const only = async (v: string) =>
      (JSON.parse((await cli('get', 'backups', '--verify', v, '-o', 'json')).stdout) as { id: string }[]).map(
        (b) => b.id,
      );
    assert.deepEqual(await only('CORRUPT'), [ids.corrupt]);
    assert.deepEqual(await only('ok'), [ids.ok]);
    assert.deepEqual(await only('NONE'), [ids.failed, ids.never]);
  });

  test('unknown filter values are refused with the allowed ones (exit 64), not answered with an empty list', async () => {
    const bogus = await cli('get', 'backups', '--status', 'BOGUS');
    assert.equal(bogus.code, 64);
    assert.equal(
      bogus.stderr,
      'error[USAGE]: --status: "BOGUS" is not one of RUNNING, SUCCEEDED, SUCCEEDED_PARTIAL, FAILED, MISSED, DELETING, DELETED\n',
    );
    const corrupt = await cli('get', 'backups', '--status', 'CORRUPT');
    assert.equal(corrupt.code, 64);
    assert.match(corrupt.stderr, /CORRUPT is a verify result: use --verify CORRUPT/);
    const verify = await cli('get', 'backups', '--verify', 'GOOD');
    assert.equal(verify.code, 64);
    assert.match(verify.stderr, /--verify: "GOOD" is not one of OK, CORRUPT, MISSING, NONE/);
  });

  test('verifying a FAILED run says there is no dump to verify, and records nothing', async () => {
    const r = await cli('verify', ids.failed.slice(0, 8));
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      new RegExp(
        `^error\\[INVALID_INPUT\\]: backup ${ids.failed} is FAILED \\(pg_dump: boom\\): there is no dump to verify`,
      ),
    );
    const [row] = await withClient(catalogue.location, (c) =>
      c.query('select verify_status from pgbackman.backup_runs where id = $1', [ids.failed]),
    ).then((res) => res.rows);
    assert.equal(row?.verify_status, null);
  });
});
