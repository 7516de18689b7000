import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../support/run-cli.ts';

const run = promisify(execFile);

describe('the embedded lock', () => {
  let work: string;
  after(async () => {
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  test('of several processes finding the same stale lock at once, one takes it', async () => {
    work = await mkdtemp(join(tmpdir(), 'pgbackman-lock-'));
    const lockFile = join(work, 'catalogue.lock');
    const dead = spawnSync('true').pid;
    mkdirSync(join(work, 'catalogue.sock'), { mode: 0o700 });
    writeFileSync(
      lockFile,
      JSON.stringify({ pid: dead, command: 'gone', since: 'then', socket: `${lockFile.slice(0, -5)}.sock` }),
    );
    // All start at the same moment, after their slow start-up: as close to the race as processes get.
    const at = Date.now() + 4_000;
    const contender = `
      const { acquireEmbeddedLock } = await import(${JSON.stringify(join(REPO_ROOT, 'src/catalogue/embedded-lock.ts'))});
      while (Date.now() < ${at});
      try {
        const release = acquireEmbeddedLock(${JSON.stringify(lockFile)}, 'contender');
        console.log('got');
        setTimeout(release, 2000);
      } catch (err) {
        console.log(err.code);
      }`;
    const results = await Promise.all(
      Array.from({ length: 6 }, () =>
        run(process.execPath, ['--import', 'tsx', '-e', contender], { cwd: REPO_ROOT }),
      ),
    );
    const said = results.map((r) => r.stdout.trim()).sort();
    assert.deepEqual(said, [
      'CATALOGUE_IN_USE',
      'CATALOGUE_IN_USE',
      'CATALOGUE_IN_USE',
      'CATALOGUE_IN_USE',
      'CATALOGUE_IN_USE',
      'got',
    ]);
    assert.equal(
      existsSync(join(work, 'catalogue.sock')),
      false,
      "the dead holder's socket directory is gone",
    );
    assert.deepEqual(readdirSync(work), [], 'no lock, draft or stale file is left');
  });
});
