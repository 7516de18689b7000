import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { CatalogueDb, Queryable } from '../../src/catalogue/catalogue-db.ts';
import { connectEmbedded } from '../../src/catalogue/connect-embedded.ts';
import { connectPostgres } from '../../src/catalogue/connect-postgres.ts';
import { compactRunTallies } from '../../src/catalogue/run-stats.ts';
import { statsReport } from '../../src/report/stats-report.ts';
import { BACKENDS, createTestCatalogue, type TestCatalogue } from '../support/catalogues.ts';
import { assertNoStackTrace, runCli } from '../support/run-cli.ts';

const COUNTS = {
  servers: 1,
  nodes: 2,
  definitions: 3,
  suspendedDefinitions: 1,
  restoreTestedDefinitions: 1,
  snapshots: 0,
};
const NO_PROBLEMS = { failed24h: 0, failed7d: 0, missed24h: 0, missed7d: 0 };
const tally = (node: string, status: string, dumps: number, bytes: number, oldest: string | null = null) => ({
  server: 'b1',
  node,
  status,
  dumps,
  bytes,
  oldest,
  newest: oldest,
  hashVerified: status === 'SUCCEEDED' ? 1 : 0,
  restoreTested: 0,
});

test('statsReport: per node and status, good dumps only for the oldest and newest, coverage of the good', () => {
  const r = statsReport({
    scope: {},
    now: new Date('2026-12-04T12:00:00Z'),
    counts: COUNTS,
    problems: { ...NO_PROBLEMS, failed7d: 2 },
    tallies: [
      tally('pg1', 'SUCCEEDED', 3, 300, '2026-11-01T00:00:00.000Z'),
      tally('pg1', 'FAILED', 2, 0),
      tally('pg2', 'SUCCEEDED_PARTIAL', 1, 50, '2026-10-01T00:00:00.000Z'),
      tally('pg2', 'RUNNING', 1, 0),
    ],
  });
  assert.deepEqual(r.dumps, {
    total: 7,
    byStatus: { RUNNING: 1, SUCCEEDED: 3, SUCCEEDED_PARTIAL: 1, FAILED: 2, MISSED: 0 },
    bytes: 350,
    oldest: '2026-10-01T00:00:00.000Z',
    newest: '2026-11-01T00:00:00.000Z',
  });
  assert.deepEqual(
    r.perNode.map((n) => [n.node, n.dumps, n.goodDumps, n.bytes]),
    [
      ['pg1', 5, 3, 300],
      ['pg2', 2, 1, 50],
    ],
  );
  assert.deepEqual(r.verify, {
    definitions: 3,
    restoreTestedDefinitions: 1,
    goodDumps: 4,
    hashVerified: 1,
    restoreTested: 0,
    coverage: 0.25,
  });
  assert.deepEqual(r.failures, { last24h: 0, last7d: 2 });
  const empty = statsReport({
    scope: { node: 'pg9' },
    now: new Date(),
    counts: COUNTS,
    problems: NO_PROBLEMS,
    tallies: [],
  });
  assert.deepEqual(
    [empty.dumps.total, empty.dumps.oldest, empty.verify.coverage, empty.scope],
    [0, null, 1, { server: null, node: 'pg9' }],
  );
});

const HOUR = 3_600_000;
const ago = (h: number) => new Date(Date.now() - h * HOUR).toISOString();

/** Runs of the examples' single-server definitions: kept, deleted, failed, verified. */
async function insertRuns(q: Queryable): Promise<void> {
  const run = (
    node: string,
    database: string | null,
    definition: string,
    status: string,
    hours: number,
    bytes: number | null,
  ) =>
    q.query(
      `insert into pgbackman.backup_runs (server, node, database, code, definition, status, started_at, finished_at, dump_bytes)
       values ('single-backup01', $1, $2, $3, $4, $5, $6, $6, $7)`,
      [node, database, database === null ? 'CLUSTER' : 'FULL', definition, status, ago(hours), bytes],
    );
  await run('single-pg01', 'shop', 'single-shop-nightly', 'SUCCEEDED', 30 * 24, 1000);
  await run('single-pg01', 'shop', 'single-shop-nightly', 'SUCCEEDED', 48, 2000);
  await run('single-pg01', 'shop', 'single-shop-nightly', 'FAILED', 2, null);
  await run('single-pg01', 'crm', 'single-crm-auto', 'FAILED', 72, null);
  await run('single-pg02', 'analytics', 'single-analytics-weekly', 'SUCCEEDED', 24 * 6, 1 << 20);
  await run('single-pg02', 'analytics', 'single-analytics-weekly', 'SUCCEEDED', 24 * 40, 1 << 20);
  // The oldest shop dump was deleted by retention: not counted, not the oldest; a newer one verified.
  await q.query(
    `update pgbackman.backup_runs set deletion = 'DELETED', deleted_at = now() where definition = 'single-shop-nightly' and dump_bytes = 1000`,
  );
  await q.query(
    `update pgbackman.backup_runs set verify_status = 'OK', verified_at = now() where definition = 'single-shop-nightly' and dump_bytes = 2000`,
  );
  // And one the analytics definition took, then deleted outright (a purge): gone from the counts.
  await q.query(
    `delete from pgbackman.backup_runs where definition = 'single-analytics-weekly' and started_at < $1`,
    [ago(24 * 30)],
  );
}

for (const backend of BACKENDS) {
  describe(`pgbackman stats (${backend} catalogue)`, () => {
    let catalogue: TestCatalogue;
    const cli = async (...args: string[]) => {
      const r = await runCli(['--catalogue', catalogue.location, ...args]);
      assertNoStackTrace(r);
      return r;
    };
    const open = (): Promise<CatalogueDb> =>
      backend === 'postgres'
        ? connectPostgres(catalogue.location)
        : connectEmbedded(catalogue.location, 'test');
    before(async () => {
      catalogue = await createTestCatalogue(backend, 'stats');
      const r = await cli('apply', 'examples/single-server', '--auto-approve');
      assert.equal(r.code, 0, r.stderr);
      const db = await open();
      try {
        await insertRuns(db);
      } finally {
        await db.close();
      }
    });
    after(async () => {
      await catalogue?.drop();
    });

    test('the whole fleet: objects, kept dumps by status, size, oldest and newest, failures, verify', async () => {
      const r = await cli('stats', '-o', 'json');
      assert.equal(r.code, 0, r.stderr);
      const s = JSON.parse(r.stdout);
      assert.deepEqual([s.servers, s.nodes, s.snapshots], [1, 2, 0]);
      assert.ok(s.definitions >= 4, `${s.definitions} definitions`);
      assert.deepEqual(s.dumps.byStatus, {
        RUNNING: 0,
        SUCCEEDED: 2,
        SUCCEEDED_PARTIAL: 0,
        FAILED: 2,
        MISSED: 0,
      });
      assert.equal(s.dumps.bytes, 2000 + (1 << 20));
      assert.ok(Math.abs(Date.parse(s.dumps.oldest) - (Date.now() - 24 * 6 * HOUR)) < 60_000, s.dumps.oldest);
      assert.ok(Math.abs(Date.parse(s.dumps.newest) - (Date.now() - 48 * HOUR)) < 60_000, s.dumps.newest);
      assert.deepEqual(s.failures, { last24h: 1, last7d: 2 });
      assert.deepEqual([s.verify.goodDumps, s.verify.hashVerified, s.verify.coverage], [2, 1, 0.5]);
      assert.deepEqual(
        s.perNode.map((n: { node: string; dumps: number; bytes: number }) => [n.node, n.dumps, n.bytes]),
        [
          ['single-pg01', 3, 2000],
          ['single-pg02', 1, 1 << 20],
        ],
      );
    });

    // The embedded catalogue runs the first case (its triggers are PostgreSQL's own); the rest is the command's.
    const postgresOnly = (name: string, fn: () => Promise<void>): void => {
      if (backend === 'postgres') test(name, fn);
    };

    postgresOnly('a node, as a table; the counts survive merging the tallies', async () => {
      const before = (await cli('stats', '-o', 'json')).stdout;
      const db = await open();
      try {
        assert.equal(await compactRunTallies(db, 'single-backup01'), true);
        const [row] = await db.query<{ n: number }>('select count(*)::int as n from pgbackman.run_tallies');
        assert.equal(row?.n, 3, 'one row per node and status after the merge');
      } finally {
        await db.close();
      }
      const afterMerge = JSON.parse((await cli('stats', '-o', 'json')).stdout);
      assert.deepEqual({ ...afterMerge, at: null }, { ...JSON.parse(before), at: null });
      const r = await cli('stats', 'node', 'single-pg01');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^Scope: +node single-pg01 /);
      assert.match(r.stdout, /Dumps kept: +3 \(1 SUCCEEDED, 2 FAILED\), 2\.0 KiB\n/);
      assert.match(r.stdout, /Failures: +1 in the last 24 h, 2 in the last 7 d/);
      assert.match(
        r.stdout,
        /\nNODE +DUMPS +GOOD +SIZE +OLDEST GOOD +NEWEST GOOD\nsingle-pg01 +3 +1 +2\.0 KiB /,
      );
    });

    postgresOnly(
      'a server or node the catalogue lacks is an error, and so is a scope it cannot read',
      async () => {
        const missing = await cli('stats', 'server', 'nope');
        assert.deepEqual(
          [missing.code, missing.stderr],
          [1, 'error[NOT_FOUND]: BackupServer/nope is not in the catalogue\n'],
        );
        const bad = await cli('stats', 'definition', 'x');
        assert.equal(bad.code, 64);
        assert.match(bad.stderr, /stats takes nothing, "server NAME" or "node NAME"; got "definition x"/);
        const yaml = await cli('stats', 'server', 'single-backup01', '-o', 'yaml');
        assert.match(yaml.stdout, /^scope:\n {2}server: single-backup01\n {2}node: null\n/);
      },
    );
  });
}
