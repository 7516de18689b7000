import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { backupManifest, writeBackupManifest } from '../../../src/backup/files/backup-manifest.ts';
import { dumpLayout } from '../../../src/backup/files/layout.ts';
import { recoverRun } from '../../../src/backup/record/recover-run.ts';

describe('recovering a run whose process stopped', () => {
  let base: string;
  const run = {
    id: '0a1b2c3d-0000-4000-8000-000000000000',
    node: 'n1',
    database: 'shop',
    code: 'FULL',
    name: 'nightly',
    startedAt: new Date('2026-12-01T02:30:00Z'),
  };
  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'pgbackman-recover-'));
  });
  after(() => rm(base, { recursive: true, force: true }));

  test('a dump in place is hashed and recorded SUCCEEDED', async () => {
    const root = join(base, 'plain');
    const layout = dumpLayout(root, run.node, run.database, run.code, run.name, run.startedAt, run.id);
    mkdirSync(layout.dir, { recursive: true, mode: 0o700 });
    writeFileSync(join(layout.dir, 'database.dump'), 'PGDMP');
    const end = await recoverRun(root, run);
    assert.equal(end.status, 'SUCCEEDED');
  });

  /** A dump in place as a run leaves it just after its rename: the dump file and the run's backup.json. */
  const placed = async (root: string, runId: string) => {
    const layout = dumpLayout(root, run.node, run.database, run.code, run.name, run.startedAt, run.id);
    mkdirSync(layout.dir, { recursive: true, mode: 0o700 });
    writeFileSync(join(layout.dir, 'database.dump'), 'PGDMP');
    await writeBackupManifest(
      layout.dir,
      backupManifest({
        runId,
        definition: run.name,
        snapshot: null,
        server: 's1',
        node: run.node,
        database: run.database,
        settings: { code: 'FULL', format: 'custom', compression: undefined },
        pgDumpVersion: '15.18',
        serverVersion: '15.17',
        databaseBytes: 4242,
        startedAt: run.startedAt,
        finishedAt: new Date('2026-12-01T02:31:00Z'),
        revision: null,
        dump: {
          fileName: 'database.dump',
          written: { 'database.dump': { bytes: 5, sha256: 'a'.repeat(64) } },
          roles: false,
          config: false,
        },
        retention: { period: '7d', redundancy: 1 },
      }),
    );
  };

  test("with the run's backup.json: its finish time and versions; the checksums taken now, not its own", async () => {
    const root = join(base, 'with-json');
    await placed(root, run.id);
    const end = await recoverRun(root, run);
    assert.equal(end.status, 'SUCCEEDED');
    assert.deepEqual(
      [end.finishedAt.toISOString(), end.pgDumpVersion, end.serverVersion, end.databaseBytes, end.dumpBytes],
      ['2026-12-01T02:31:00.000Z', '15.18', '15.17', 4242, 5],
    );
    assert.deepEqual(end.sha256, { 'database.dump': createHash('sha256').update('PGDMP').digest('hex') });
  });

  test("another run's backup.json (a copied folder) is not believed: the folder's own time", async () => {
    const root = join(base, 'other-json');
    await placed(root, '99999999-0000-4000-8000-000000000000');
    const end = await recoverRun(root, run);
    assert.equal(end.status, 'SUCCEEDED');
    assert.deepEqual([end.pgDumpVersion, end.serverVersion, end.databaseBytes], [null, null, null]);
    assert.notEqual(end.finishedAt.toISOString(), '2026-12-01T02:31:00.000Z');
  });

  test('through a symlinked <node>/<database>: never trusted as a dump, nothing where it points removed', async () => {
    const root = join(base, 'linked');
    const outside = join(base, 'outside');
    mkdirSync(join(root, 'n1'), { recursive: true, mode: 0o700 });
    mkdirSync(outside, { mode: 0o700 });
    symlinkSync(outside, join(root, 'n1', 'shop'));
    const layout = dumpLayout(root, run.node, run.database, run.code, run.name, run.startedAt, run.id);
    mkdirSync(layout.dir, { mode: 0o700 });
    writeFileSync(join(layout.dir, 'database.dump'), 'PGDMP');
    mkdirSync(layout.partial, { mode: 0o700 });
    const end = await recoverRun(root, run);
    assert.equal(end.status, 'FAILED');
    assert.equal(existsSync(layout.partial), true, 'a directory outside the root was removed');
  });
});
