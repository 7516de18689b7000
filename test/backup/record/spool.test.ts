import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { replaySpool, spoolDir, spoolRun } from '../../../src/backup/record/spool.ts';
import { type DumpJob, runDump } from '../../../src/backup/run-dump.ts';
import type { Queryable } from '../../../src/catalogue/catalogue-db.ts';
import { connectPostgres } from '../../../src/catalogue/connect-postgres.ts';
import { parseAllowedDestinations } from '../../../src/storage/allowed-destinations.ts';
import { retryCopies } from '../../../src/storage/retry-copies.ts';
import { createTestCatalogue, type TestCatalogue } from '../../support/catalogues.ts';
import { runCli, writeTree } from '../../support/run-cli.ts';
import { testServerUrl } from '../../support/test-database.ts';

const refused = () =>
  Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }));

/** A catalogue that is down from the start: every statement fails as a refused connection would. */
const down: Queryable = { query: refused, exec: refused };

/** A catalogue that goes down once the run's RUNNING row is in: the start is recorded, the end is not. */
function downAfterStart(real: Queryable): Queryable {
  let isDown = false;
  return {
    async query(sql, params) {
      if (isDown) return refused();
      const rows = await real.query(sql, params);
      if (/^\s*insert into pgbackman\.backup_runs/.test(sql) && /'RUNNING'/.test(sql)) isDown = true;
      return rows;
    },
    exec: (sql) => (isDown ? refused() : real.exec(sql)),
  } as Queryable;
}

describe('the spool: a dump is taken and recorded even when the catalogue is down', () => {
  let catalogue: TestCatalogue;
  let root: string;
  let job: DumpJob;
  before(async () => {
    catalogue = await createTestCatalogue('postgres', 'spool');
    root = await mkdtemp(join(tmpdir(), 'pgbackman-spool-'));
    const node = new URL(testServerUrl());
    job = {
      kind: 'BackupDefinition',
      name: 'nightly',
      spec: { server: 'local', node: 'n', database: 'postgres' },
      node: { name: 'n', spec: { host: node.hostname, port: Number(node.port) } },
      server: { name: 'local', spec: { hostname: 'localhost', rootDirectory: root } },
    };
  });
  after(async () => {
    await catalogue?.drop();
    await rm(root, { recursive: true, force: true });
  });

  const runs = async () => {
    const db = await connectPostgres(catalogue.location);
    try {
      await replaySpool(db, root);
      return await db.query<{ id: string; status: string; dump_path: string | null }>(
        'select id::text, status, dump_path from pgbackman.backup_runs order by started_at',
      );
    } finally {
      await db.close();
    }
  };

  test('down from the start: the dump succeeds, its record is spooled, then replayed exactly once', async () => {
    const db = await connectPostgres(catalogue.location);
    const result = await runDump(job, down);
    await db.close();
    assert.equal(result.status, 'SUCCEEDED', result.error ?? '');
    assert.equal(result.spoolReason !== undefined, true);
    assert.deepEqual(readdirSync(spoolDir(root)), [`${result.id}.json`]);
    const first = await runs();
    assert.deepEqual(
      first.map((r) => [r.id, r.status]),
      [[result.id, 'SUCCEEDED']],
    );
    assert.ok(first[0]?.dump_path?.startsWith(result.dir as string));
    assert.deepEqual(readdirSync(spoolDir(root)), []);
    assert.deepEqual(await runs(), first, 'a second replay records nothing twice');
  });

  test('down in the middle: the RUNNING row is completed by the replay', async () => {
    const db = await connectPostgres(catalogue.location);
    const result = await runDump(job, downAfterStart(db));
    await db.close();
    assert.equal(result.status, 'SUCCEEDED', result.error ?? '');
    assert.equal(result.spoolReason !== undefined, true);
    const after = await runs();
    assert.equal(after.length, 2);
    assert.deepEqual(after.at(-1), {
      id: result.id,
      status: 'SUCCEEDED',
      dump_path: after.at(-1)?.dump_path,
    });
  });

  test('a spool file that cannot be read is set aside, and the records after it still arrive', async () => {
    await mkdir(spoolDir(root), { recursive: true });
    await writeFile(join(spoolDir(root), '00000000-torn.json'), '{"start": {"id": "0000');
    const result = await runDump(job, down);
    const db = await connectPostgres(catalogue.location);
    const replay = await replaySpool(db, root).finally(() => db.close());
    // Counted and named, for the run's warning and the agent's metrics: never set aside silently.
    assert.equal(replay.sent, 1);
    assert.equal(replay.setAside.length, 1);
    assert.deepEqual(
      { ...replay.setAside[0], reason: undefined },
      { kind: 'unreadable', path: join(spoolDir(root), '00000000-torn.json.unreadable'), reason: undefined },
    );
    assert.match(replay.setAside[0]?.reason ?? '', /JSON/);
    const before = (await runs()).length;
    assert.ok(before >= 3, 'the spooled record arrived');
    assert.deepEqual(readdirSync(spoolDir(root)).sort(), ['00000000-torn.json.unreadable']);
    assert.ok((await runs()).some((r) => r.id === result.id));
  });

  test('a start whose process is alive waits; once that process is gone it is replayed as interrupted', async () => {
    const start = {
      id: '00000000-0000-4000-8000-000000000001',
      server: 'local',
      node: 'n',
      database: 'postgres',
      code: 'FULL',
      definition: 'nightly',
      snapshot: null,
      startedAt: new Date(),
      retention: { period: '7d' },
      host: hostname(),
      pid: process.pid,
    };
    await spoolRun(root, { start, end: null });
    assert.equal(
      (await runs()).some((r) => r.id === start.id),
      false,
      'still being taken: not replayed',
    );
    const gone = spawnSync(process.execPath, ['-e', '0']).pid;
    await spoolRun(root, { start: { ...start, pid: gone }, end: null });
    const replayed = (await runs()).find((r) => r.id === start.id);
    assert.equal(replayed?.status, 'FAILED');
    assert.deepEqual(
      readdirSync(spoolDir(root)).filter((f) => f.endsWith('.json')),
      [],
    );
  });

  test('a record the catalogue refuses is set aside with the reason, and the others still arrive', async () => {
    const db = await connectPostgres(catalogue.location);
    const result = await runDump(job, down);
    await db.close();
    const file = join(spoolDir(root), `${result.id}.json`);
    const record = JSON.parse(readFileSync(file, 'utf8'));
    record.end.status = 'MAYBE'; // the catalogue's check constraint refuses it
    writeFileSync(
      join(spoolDir(root), '00000000-refused.json'),
      JSON.stringify({ ...record, start: { ...record.start, id: '00000000-0000-4000-8000-00000000000f' } }),
    );
    const after = await runs();
    assert.ok(after.some((r) => r.id === result.id && r.status === 'SUCCEEDED'));
    assert.deepEqual(
      readdirSync(spoolDir(root)).filter((f) => !f.endsWith('.unreadable')),
      ['00000000-refused.json.rejected'],
    );
    assert.match(
      readFileSync(join(spoolDir(root), '00000000-refused.json.rejected'), 'utf8'),
      /"rejected":".*check constraint/,
    );
  });

  test('a claim left by a replay that died is sent by the next one', async () => {
    const result = await runDump(job, down);
    const file = join(spoolDir(root), `${result.id}.json`);
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    renameSync(file, `${file}.sending-${dead}@${hostname()}`);
    const after = await runs();
    assert.ok(after.some((r) => r.id === result.id && r.status === 'SUCCEEDED'));
    assert.deepEqual(
      readdirSync(spoolDir(root)).filter((f) => f.startsWith(result.id)),
      [],
    );
  });

  test('a dump with further destinations, spooled: replayed SUCCEEDED_PARTIAL, so the copy pass makes and records its copies', async () => {
    const second = await mkdtemp(join(tmpdir(), 'pgbackman-spool-second-'));
    const storage: [{ name: string; local: { path: string } }, { name: string; local: { path: string } }] = [
      { name: 'disk', local: { path: root } },
      { name: 'second', local: { path: second } },
    ];
    const stored: DumpJob = { ...job, server: { ...job.server, spec: { ...job.server.spec, storage } } };
    const allowed = parseAllowedDestinations([second]);
    try {
      const result = await runDump(stored, down, { allowedDestinations: allowed });
      assert.equal(result.spoolReason !== undefined, true);
      const [replayed] = (await runs()).filter((r) => r.id === result.id);
      assert.equal(replayed?.status, 'SUCCEEDED_PARTIAL');
      // The server as the catalogue knows it, and the copy pass the agent runs every --copy-retry-interval.
      const applied = await runCli([
        '--catalogue',
        catalogue.location,
        'apply',
        await writeTree({
          's.yaml': `apiVersion: pgbackman.io/v1\nkind: BackupServer\nmetadata: {name: local}\nspec: {hostname: localhost, rootDirectory: ${JSON.stringify(root)}, storage: ${JSON.stringify(storage)}}\n`,
        }),
        '--auto-approve',
      ]);
      assert.equal(applied.code, 0, applied.stderr);
      const db = await connectPostgres(catalogue.location);
      try {
        const pass = await retryCopies(db, 'local', { allowed, env: process.env, secretsDir: root });
        assert.equal(pass.completed >= 1, true, JSON.stringify(pass));
        const [row] = await db.query<{ status: string; error: string | null }>(
          'select status, error from pgbackman.backup_runs where id = $1',
          [result.id],
        );
        assert.deepEqual(row, { status: 'SUCCEEDED', error: null });
        const copies = await db.query<{ status: string }>(
          'select status from pgbackman.dump_copies where run_id = $1',
          [result.id],
        );
        assert.deepEqual(copies, [{ status: 'COPIED' }]);
      } finally {
        await db.close();
      }
    } finally {
      await rm(second, { recursive: true, force: true });
    }
  });
});
