import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { createTestCatalogue, type TestCatalogue } from '../support/catalogues.ts';
import { assertNoStackTrace, runCli } from '../support/run-cli.ts';
import { withClient } from '../support/test-database.ts';

const run = promisify(execFile);

describe('pgbackman history: applies with revision, author and summary; runs with filters', () => {
  let catalogue: TestCatalogue;
  let repo: string;
  const git = (author: string, ...args: string[]) => {
    const [name, email] = author.split('|');
    return run('git', ['-c', `user.name=${name}`, '-c', `user.email=${email}`, ...args], { cwd: repo });
  };
  const cli = async (...args: string[]) => {
    const r = await runCli(['--catalogue', catalogue.location, ...args], { cwd: repo });
    assertNoStackTrace(r);
    return r;
  };
  let first: string;
  let second: string;
  before(async () => {
    catalogue = await createTestCatalogue('postgres', 'history');
    repo = await mkdtemp(join(tmpdir(), 'pgbackman-history-'));
    await run('git', ['init', '-q', '--initial-branch=main', repo]);
    await cp('examples/single-server', join(repo, 'manifests'), { recursive: true });
    await git('Alice Example|alice@example.org', 'add', '-A');
    await git('Alice Example|alice@example.org', 'commit', '-q', '-m', 'Add the Oslo backup server');
    first = (await git('x|x', 'rev-parse', 'HEAD')).stdout.trim();
    assert.equal((await cli('apply', 'manifests', '--auto-approve')).code, 0);
    const file = join(repo, 'manifests', 'definitions.yaml');
    await writeFile(file, (await readFile(file, 'utf8')).replace('period: 14d', 'period: 21d'));
    await git('Bob|bob@example.org', 'commit', '-q', '-am', 'Keep shop dumps three weeks\x1b[31m (red)');
    second = (await git('x|x', 'rev-parse', 'HEAD')).stdout.trim();
    assert.equal((await cli('apply', 'manifests', '--auto-approve')).code, 0);
    await withClient(catalogue.location, (c) =>
      c.query(`insert into pgbackman.backup_runs (server, node, database, code, definition, status, started_at, deletion, deleted_at) values
        ('single-backup01', 'single-pg01', 'shop', 'FULL', 'single-shop-nightly', 'SUCCEEDED', now() - interval '40 days', 'DELETED', now()),
        ('single-backup01', 'single-pg01', 'shop', 'FULL', 'single-shop-nightly', 'FAILED', now() - interval '1 day', null, null),
        ('single-backup01', 'single-pg01', 'crm', 'FULL', 'single-crm-auto', 'SUCCEEDED', now() - interval '2 days', null, null)`),
    );
  });
  after(async () => {
    await catalogue?.drop();
    await rm(repo, { recursive: true, force: true });
  });

  test('history lists each apply, newest first, with who applied it and the commit it came from', async () => {
    const r = await cli('history');
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^SERIAL\s+APPLIED\s+BY\s+REVISION\s+CHANGES\s+AUTHOR\s+SUBJECT$/);
    assert.match(
      lines[1] ?? '',
      new RegExp(
        `^2\\s+\\S+Z\\s+\\S+\\s+main@${second.slice(0, 12)}\\s+\\+0 ~1 -0\\s+Bob <bob@example.org>\\s+Keep shop dumps three weeks \\[31m \\(red\\)$`,
      ),
    );
    assert.match(
      lines[2] ?? '',
      new RegExp(
        `^1\\s+.*main@${first.slice(0, 12)}\\s+\\+\\d+ ~0 -0\\s+Alice Example <alice@example.org>\\s+Add the Oslo backup server$`,
      ),
    );
    assert.ok(!r.stdout.includes('\x1b'), 'a commit subject cannot write escape sequences to the terminal');
    const json = JSON.parse((await cli('history', '-o', 'json', '--limit', '1')).stdout);
    assert.equal(json.length, 1);
    assert.deepEqual(
      [json[0].serial, json[0].revision, json[0].commit, json[0].summary],
      [
        2,
        `main@sha1:${second}`,
        { author: 'Bob <bob@example.org>', subject: 'Keep shop dumps three weeks [31m (red)' },
        { add: 0, change: 1, destroy: 0 },
      ],
    );
  });

  test('history SERIAL shows what one apply changed, field by field', async () => {
    const r = await cli('history', '2');
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^serial: +2\napplied: +\S+Z by \S+\nrevision: +main@sha1:[0-9a-f]{40}\ncommit: +Bob <bob@example.org>: Keep shop dumps/,
    );
    assert.match(
      r.stdout,
      /\nchanges: +\+0 ~1 -0\n {2}~ BackupDefinition\/single-shop-nightly \(spec\.retention\.period\)\n$/,
    );
    const missing = await cli('history', '99');
    assert.deepEqual(
      [missing.code, missing.stderr],
      [1, 'error[NOT_FOUND]: no apply has serial 99 in this catalogue\n'],
    );
  });

  test('history runs lists every run, deleted ones too, with the filters of get backups and --definition', async () => {
    const r = await cli('history', 'runs', '--definition', 'single-shop-nightly', '-o', 'json');
    assert.equal(r.code, 0, r.stderr);
    const runs = JSON.parse(r.stdout) as { status: string; deletion: string | null }[];
    assert.deepEqual(
      runs.map((x) => [x.status, x.deletion]),
      [
        ['FAILED', null],
        ['SUCCEEDED', 'DELETED'],
      ],
    );
    const table = await cli('history', 'runs', '--status', 'DELETED');
    assert.match(table.stdout, /\n\S+\s+DELETED\s+.*single-shop-nightly/);
    const get = JSON.parse((await cli('get', 'backups', '-o', 'json')).stdout);
    assert.equal(get.length, 2, 'get backups leaves the deleted one out');
  });

  test('a filter of runs on the applies, or a word history does not know, is a usage error', async () => {
    const r = await cli('history', '--node', 'single-pg01');
    assert.deepEqual(
      [r.code, r.stderr],
      [64, 'error[USAGE]: --node filters runs: pgbackman history runs --node …\n'],
    );
    const w = await cli('history', 'yesterday');
    assert.equal(w.code, 64);
    assert.match(w.stderr, /history takes "applies", "runs" or an apply's serial number; got "yesterday"/);
  });
});
