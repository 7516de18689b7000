import assert from 'node:assert/strict';
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
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
