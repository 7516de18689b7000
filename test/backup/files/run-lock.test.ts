import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { acquireRunLock } from '../../../src/backup/files/run-lock.ts';

describe('the run lock: one run of a definition at a time', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'pgbackman-lock-'));
    mkdirSync(join(root, '.locks'));
  });
  after(() => rm(root, { recursive: true, force: true }));
  const lockFile = join('.locks', 'BackupDefinition-x.lock');
  const holder = (h: object) => writeFileSync(join(root, lockFile), JSON.stringify(h));

  test('taken, refused while held, free again once released', () => {
    const release = acquireRunLock(root, 'BackupDefinition-x', 'BackupDefinition/x');
    assert.throws(() => acquireRunLock(root, 'BackupDefinition-x', 'BackupDefinition/x'), {
      code: 'RUN_LOCKED',
      message: new RegExp(
        `^BackupDefinition/x is already running \\(pid ${process.pid}, since \\d{4}-\\d\\d-\\d\\dT`,
      ),
    });
    release();
    acquireRunLock(root, 'BackupDefinition-x')();
    assert.deepEqual(readdirSync(join(root, '.locks')), [], 'no lock or temporary file is left');
  });

  test('a lock whose process is gone is taken over; one held on another host is not', () => {
    holder({ host: hostname(), pid: spawnSync(process.execPath, ['-e', '0']).pid, since: 'earlier' });
    acquireRunLock(root, 'BackupDefinition-x')();
    holder({ host: 'backup-02', pid: 1, since: 'earlier' });
    assert.throws(
      () => acquireRunLock(root, 'BackupDefinition-x'),
      /already running \(pid 1 on backup-02, since earlier\).*if that host is gone, remove .*BackupDefinition-x\.lock/,
    );
    assert.ok(existsSync(join(root, lockFile)), 'the other host keeps its lock');
  });
});
