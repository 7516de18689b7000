import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createTestCatalogue, type TestCatalogue } from '../../support/catalogues.ts';
import { localSetup } from '../../support/fixtures.ts';
import { assertNoStackTrace, runCli, writeTree } from '../../support/run-cli.ts';
import { testServerUrl } from '../../support/test-database.ts';

describe('verify: files added to a dump after it was taken', () => {
  let catalogue: TestCatalogue;
  let root: string;
  const cli = async (...args: string[]) => {
    const r = await runCli(['--catalogue', catalogue.location, ...args]);
    assertNoStackTrace(r);
    return r;
  };
  /** Takes one dump and returns its id and directory. */
  const dump = async (name: string) => {
    const r = await cli('run', name);
    assert.equal(r.code, 0, r.stderr);
    const [, id, dir] = /^Backup ([0-9a-f-]{36}) SUCCEEDED: .*\n {2}(.+)\n$/.exec(r.stdout) ?? [];
    assert.ok(id && dir, r.stdout);
    return { id, dir };
  };

  before(async () => {
    catalogue = await createTestCatalogue('postgres', 'verify-extra');
    root = await mkdtemp(join(tmpdir(), 'pgbackman-verify-extra-'));
    const node = new URL(testServerUrl());
    const manifests = localSetup({
      root,
      host: '127.0.0.1',
      port: node.port,
      definitions: {
        custom: 'database: postgres',
        directory: 'database: postgres, format: directory',
      },
    });
    const r = await cli('apply', await writeTree({ 'm.yaml': manifests }), '--auto-approve');
    assert.equal(r.code, 0, r.stderr + r.stdout);
  });
  after(async () => {
    await catalogue?.drop();
    await rm(root, { recursive: true, force: true });
  });

  test('a file beside the dump: still OK, with a warning naming it', async () => {
    const { id, dir } = await dump('custom');
    // backup.json, dump.log and globals.log are the run's own: no warning for them.
    const clean = await cli('verify', id);
    assert.deepEqual([clean.code, clean.stdout, clean.stderr.includes('warning')], [0, `${id} OK\n`, false]);
    writeFileSync(join(dir, 'notes.txt'), 'left here by someone\n');
    const r = await cli('verify', id);
    assert.deepEqual([r.code, r.stdout], [0, `${id} OK\n`], r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `^warning: ${id}: a file beside the dump that it did not write .*: ${join(dir, 'notes.txt')}$`,
        'm',
      ),
    );
  });

  test('a file inside a directory-format dump: CORRUPT, naming it', async () => {
    const { id, dir } = await dump('directory');
    const clean = await cli('verify', id);
    assert.deepEqual([clean.code, clean.stdout, clean.stderr.includes('warning')], [0, `${id} OK\n`, false]);
    writeFileSync(join(dir, 'database.dir', '9999.dat'), 'not from pg_dump\n');
    const r = await cli('verify', id);
    assert.equal(r.code, 1);
    assert.equal(
      r.stdout,
      `${id} CORRUPT: ${join(dir, 'database.dir')} holds a file pg_dump did not write when it was taken: 9999.dat\n`,
    );
    const described = await cli('describe', 'backup', id);
    assert.match(described.stdout, /verifyStatus: CORRUPT\n/);
  });
});
