import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ownershipProblem } from '../../../src/system/path-safety.ts';
import { createTestCatalogue, type TestCatalogue } from '../../support/catalogues.ts';
import { assertNoStackTrace, runCli, writeTree } from '../../support/run-cli.ts';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../../support/throwaway-postgres.ts';

/** Manifests whose server runs pg_dump from `binDir` for every major the tests' servers have. */
function setup(root: string, port: number, binDir: string): string {
  const dirs = [13, 14, 15, 16, 17, 18].map((m) => `"${m}": ${JSON.stringify(binDir)}`).join(', ');
  return [
    `kind: BackupServer\nmetadata: {name: local}\nspec: {hostname: localhost, rootDirectory: ${JSON.stringify(root)}, pgBinDirectories: {${dirs}}}`,
    `kind: PgSQLNode\nmetadata: {name: n1}\nspec: {host: 127.0.0.1, port: ${port}}`,
    'kind: BackupDefinition\nmetadata: {name: nightly}\nspec: {server: local, node: n1, database: postgres}',
  ]
    .map((d) => `apiVersion: pgbackman.io/v1\n${d}\n`)
    .join('---\n');
}

describe('pgBinDirectories someone else could write to', {
  skip: process.getuid?.() !== 0 && 'needs root to chown',
}, () => {
  let pg: ThrowawayPostgres;
  let catalogue: TestCatalogue;
  let root: string;
  let scratch: string;
  before(async () => {
    pg = await startThrowawayPostgres('tool-safety');
    catalogue = await createTestCatalogue('postgres', 'toolsafety');
    root = await mkdtemp(join(tmpdir(), 'pgbackman-tools-'));
    scratch = await mkdtemp(join(tmpdir(), 'pgbackman-bin-'));
  });
  after(async () => {
    await pg?.stop();
    await catalogue?.drop();
    await rm(root, { recursive: true, force: true });
    await rm(scratch, { recursive: true, force: true });
  });

  /** A directory holding a pg_dump and pg_dumpall that only leave a mark; returns the mark's path. */
  const plantTools = async (dir: string, owner: number) => {
    const mark = join(dir, 'ran');
    await mkdir(dir, { recursive: true });
    for (const tool of ['pg_dump', 'pg_dumpall']) {
      await writeFile(join(dir, tool), `#!/bin/sh\ntouch ${mark}\n`, { mode: 0o755 });
      await chown(join(dir, tool), owner, owner);
    }
    return mark;
  };
  const applyAndRun = async (binDir: string) => {
    const dir = await writeTree({ 'm.yaml': setup(root, pg.port, binDir) });
    const applied = await runCli(['--catalogue', catalogue.location, 'apply', dir, '--auto-approve']);
    assert.equal(applied.code, 0, applied.stderr);
    return { manifests: dir, run: await runCli(['--catalogue', catalogue.location, 'run', 'nightly']) };
  };

  test('a world-writable directory with tools written by nobody: refused, nothing runs; validate warns', async () => {
    const bin = join(scratch, 'open');
    const mark = await plantTools(bin, 65534);
    await chmod(bin, 0o777);
    const { manifests, run } = await applyAndRun(bin);
    assertNoStackTrace(run);
    assert.equal(run.code, 1);
    assert.match(run.stdout, /FAILED/);
    assert.match(
      run.stderr,
      /refusing to run .*\/open\/pg_dump: it is owned by uid 65534, neither root nor this process's user \(uid 0\)/,
    );
    assert.equal(existsSync(mark), false, 'the planted pg_dump ran');

    const v = await runCli(['validate', manifests]);
    assert.equal(v.code, 0, 'a warning does not make the manifests invalid');
    assert.match(
      v.stderr,
      /m\.yaml:\d+:\d+: warning: BackupServer\/local: \/spec\/pgBinDirectories\/15: .*\/open: it is writable by others \(mode 0777\); pgbackman refuses to run pg_dump from there/,
    );
  });

  test('root-owned tools in a root-owned 0755 directory below the sticky /tmp: refused because of /tmp', async () => {
    const bin = join(scratch, 'closed');
    const mark = await plantTools(bin, 0);
    await chmod(bin, 0o755);
    await chmod(scratch, 0o755);
    const { run } = await applyAndRun(bin);
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      /refusing to run .*\/closed\/pg_dump because of \/tmp: it is writable by others \(mode 1777, sticky does not help\)/,
    );
    assert.equal(existsSync(mark), false, 'the pg_dump under /tmp ran');
  });
});

describe('ownershipProblem', () => {
  const uid = 1000;
  test('root or this user, not writable by group or others: fine', () => {
    assert.equal(ownershipProblem({ uid: 0, mode: 0o40755 }, uid), undefined);
    assert.equal(ownershipProblem({ uid, mode: 0o100700 }, uid), undefined);
  });
  test('another owner, group-writable, world-writable and sticky world-writable are each refused', () => {
    assert.match(ownershipProblem({ uid: 33, mode: 0o40755 }, uid) ?? '', /owned by uid 33/);
    assert.match(
      ownershipProblem({ uid: 0, mode: 0o40775 }, uid) ?? '',
      /writable by its group \(mode 0775\)/,
    );
    assert.match(ownershipProblem({ uid: 0, mode: 0o40777 }, uid) ?? '', /writable by others \(mode 0777\)/);
    assert.match(ownershipProblem({ uid: 0, mode: 0o41777 }, uid) ?? '', /mode 1777, sticky does not help/);
  });
});
