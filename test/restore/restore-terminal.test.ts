import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createTestCatalogue, type TestCatalogue } from '../support/catalogues.ts';
import { assertNoStackTrace, runCli, writeTree } from '../support/run-cli.ts';
import { runCliOnTerminal, SCRIPT_TOOL } from '../support/run-on-terminal.ts';
import { createSourceDatabase, testServerUrl, withClient, withDatabase } from '../support/test-database.ts';

// This file's own databases on the shared cluster (rt_).
const SOURCE = 'rt_source';
const COPY = 'rt_copy';
const TABLES = 40;
const skip = SCRIPT_TOOL === null ? 'util-linux script (a pseudo-terminal) is not installed' : false;

describe('pgbackman restore on a terminal and off one', { skip }, () => {
  let catalogue: TestCatalogue;
  let dir: string;
  let id: string;
  const server = new URL(testServerUrl());
  const cli = async (...args: string[]) => {
    const r = await runCli(['--catalogue', catalogue.location, ...args]);
    assertNoStackTrace(r);
    return r;
  };
  const onTerminal = (args: string[], o: Parameters<typeof runCliOnTerminal>[1] = {}) =>
    runCliOnTerminal(['--catalogue', catalogue.location, ...args], o);
  const restoreCount = async () =>
    (JSON.parse((await cli('get', 'restores', '-o', 'json')).stdout) as unknown[]).length;
  /** A table only the database as it was before the restore has: gone once it is replaced. */
  const mark = () =>
    withClient(withDatabase(server.href, COPY), (c) => c.query('create table if not exists marker ()'));
  const marked = () =>
    withClient(
      withDatabase(server.href, COPY),
      async (c) => (await c.query("select to_regclass('marker') is not null as m")).rows[0].m as boolean,
    );
  const dropCopies = () =>
    withClient(server.href, async (c) => {
      const { rows } = await c.query("select datname from pg_database where datname like 'rt\\_copy%'");
      for (const r of rows) await c.query(`drop database "${r.datname}" with (force)`);
    });

  before(async () => {
    await createSourceDatabase(
      SOURCE,
      `do $$ begin for i in 1..${TABLES} loop execute format('create table t%s as select g from generate_series(1, 100) g', i); end loop; end $$`,
    );
    await dropCopies();
    catalogue = await createTestCatalogue('postgres', 'restore-terminal');
    dir = await writeTree({});
    const manifests = join(dir, 'm.yaml');
    await writeFile(
      manifests,
      [
        `kind: BackupServer\nmetadata: {name: local}\nspec: {hostname: localhost, rootDirectory: ${JSON.stringify(join(dir, 'root'))}}`,
        `kind: PgSQLNode\nmetadata: {name: n1}\nspec: {host: ${server.hostname}, port: ${server.port}, sslMode: disable}`,
        `kind: BackupDefinition\nmetadata: {name: src}\nspec: {server: local, node: n1, database: ${SOURCE}, schedule: auto}`,
      ]
        .map((d) => `apiVersion: pgbackman.io/v1\n${d}\n`)
        .join('---\n'),
    );
    assert.equal((await cli('apply', '--auto-approve', manifests)).code, 0);
    const run = await cli('run', 'src');
    assert.equal(run.code, 0, run.stderr);
    id = (/Backup ([0-9a-f-]{36}) SUCCEEDED/.exec(run.stdout)?.[1] ?? '').slice(0, 8);
    const first = await cli('restore', id, '--node', 'n1', '--database', COPY);
    assert.equal(first.code, 0, first.stderr);
  });
  after(async () => {
    await dropCopies();
    await withClient(server.href, (c) => c.query(`drop database if exists ${SOURCE} with (force)`));
    await catalogue?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('--existing drop asks first; "no" changes nothing, records nothing and exits 1', async () => {
    await mark();
    const before = await restoreCount();
    const r = await onTerminal(['restore', id, '--node', 'n1', '--database', COPY, '--existing', 'drop'], {
      answers: [{ when: /Enter a value: $/, type: 'no' }],
    });
    assert.equal(r.code, 1, r.screen);
    assert.match(r.screen, /\d\. drop existing database "rt_copy"\n\s+DROP DATABASE "rt_copy"\n/);
    assert.match(
      r.screen,
      /Do you want to perform these actions\?\n {2}pgbackman will drop database "rt_copy" on node n1, then restore the dump\.\n {2}Only 'yes' will be accepted to approve\.\n/,
    );
    assert.match(
      r.screen,
      /^error\[ABORTED\]: restore cancelled \(only "yes" approves; --yes does not ask\): nothing was changed$/m,
    );
    assert.equal(await marked(), true, 'the database is as it was');
    assert.equal(await restoreCount(), before, 'nothing recorded');
  });

  test('"yes" drops and restores, with progress on stderr: items of the archive restored / total', async () => {
    await mark();
    const stdout = join(dir, 'stdout.txt');
    const r = await onTerminal(['restore', id, '--node', 'n1', '--database', COPY, '--existing', 'drop'], {
      answers: [{ when: /Enter a value: $/, type: 'yes' }],
      stdoutTo: stdout,
    });
    assert.equal(r.code, 0, r.screen);
    const total = TABLES * 2; // a TABLE and its TABLE DATA each
    assert.match(
      r.screen,
      new RegExp(`^ {2}restored 1/${total} items: creating TABLE "public\\.t\\d+"$`, 'm'),
    );
    assert.match(r.screen, new RegExp(`^ {2}restored ${total}/${total} items$`, 'm'));
    const out = await readFile(stdout, 'utf8');
    assert.match(out, /^Restore [0-9a-f]{8} SUCCEEDED: database "rt_copy" on node n1 \(log: .+\)\n$/);
    assert.equal(await marked(), false, 'the database was replaced');
  });

  test('--existing rename asks too; --yes does not ask', async () => {
    const asked = await onTerminal(
      ['restore', id, '--node', 'n1', '--database', COPY, '--existing', 'rename'],
      {
        answers: [{ when: /Enter a value: $/, type: 'nope' }],
      },
    );
    assert.equal(asked.code, 1, asked.screen);
    assert.match(
      asked.screen,
      /pgbackman will rename database "rt_copy" to "rt_copy_\d{8}_\d{6}" on node n1/,
    );
    const yes = await onTerminal([
      'restore',
      id,
      '--node',
      'n1',
      '--database',
      COPY,
      '--existing',
      'rename',
      '--rename-existing-to',
      'rt_copy_old',
      '--yes',
    ]);
    assert.equal(yes.code, 0, yes.screen);
    assert.doesNotMatch(yes.screen, /Do you want to perform these actions/);
    assert.match(yes.screen, /the previous one is now "rt_copy_old"/);
  });

  test('off a terminal nothing is asked: --existing drop on the command line is the consent; no progress lines', async () => {
    await mark();
    const r = await cli('restore', id, '--node', 'n1', '--database', COPY, '--existing', 'drop');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /\d\. drop existing database "rt_copy"/);
    assert.doesNotMatch(r.stderr, /Do you want|Enter a value|restored \d+/);
    assert.match(r.stdout, /^Restore [0-9a-f]{8} SUCCEEDED: database "rt_copy" on node n1/);
    assert.equal(await marked(), false);
  });
});
