import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { withCatalogue } from '../../src/catalogue/open-catalogue.ts';
import { planInBatches } from '../../src/retention/plan-batches.ts';
import { readRetentionInput } from '../../src/retention/read-retention.ts';
import { type PlannedDump, planRetention } from '../../src/retention/retention-plan.ts';
import { BACKENDS, createTestCatalogue, type TestCatalogue } from '../support/catalogues.ts';
import { runCli, writeTree } from '../support/run-cli.ts';

const NOW = Date.parse('2026-12-01T12:00:00Z');

const manifests = (root: string) => `apiVersion: pgbackman.io/v1
kind: BackupServer
metadata: {name: bk1}
spec: {hostname: bk1.example.com, rootDirectory: ${JSON.stringify(root)}, defaults: {retention: {period: 14d, redundancy: 2}}}
---
apiVersion: pgbackman.io/v1
kind: BackupServer
metadata: {name: bk2}
spec: {hostname: bk2.example.com, rootDirectory: /nonexistent/pgbackman-plan-batches}
---
apiVersion: pgbackman.io/v1
kind: PgSQLNode
metadata: {name: n1}
spec: {host: 127.0.0.1, port: 1}
---
apiVersion: pgbackman.io/v1
kind: BackupDefinition
metadata: {name: d-a}
spec: {server: bk1, node: n1, database: a, schedule: '0 2 * * *', retention: {period: 7d, redundancy: 3}}
---
apiVersion: pgbackman.io/v1
kind: BackupDefinition
metadata: {name: d-b}
spec: {server: bk2, node: n1, database: b, schedule: '0 3 * * *', timezone: America/New_York,
       retention: {keep: {last: 2, daily: 5, weekly: 3, monthly: 4}}}
---
apiVersion: pgbackman.io/v1
kind: BackupDefinition
metadata: {name: d-c}
spec: {server: bk1, node: n1, database: c, schedule: '0 4 * * *'}
`;

/**
 * Runs of every kind the plan meets: each status, no size, pinned, half-deleted, deleted (never shown),
 * running (no finish), equal finish times, half milliseconds; a definition that moved servers (d-c), one
 * deleted from the catalogue (gone, under the rules stored on its runs) and a snapshot's.
 */
const INSERT_RUNS = `
insert into pgbackman.backup_runs
  (server, node, database, code, definition, snapshot, status, started_at, finished_at, dump_bytes, dump_path,
   retention, pinned_at, pinned_by, deletion)
select case when g.name = 'd-c' and k % 3 = 0 then 'bk2' else g.server end, 'n1', 'db', 'FULL',
       case when g.snap then null else g.name end, case when g.snap then g.name end,
       case when k % 11 = 0 and k > 0 then 'RUNNING' when k % 7 = 3 then 'FAILED'
            when k % 17 = 5 then 'MISSED' else 'SUCCEEDED' end,
       t - interval '10 minutes',
       case when k % 11 = 0 and k > 0 then null else t end,
       case when k % 7 = 3 or k % 19 = 0 then null else 1000000 + k * 7919 end,
       case when k % 7 = 3 then null else '/backups/' || g.name || '/' || k || '/database.dump' end,
       g.retention,
       case when k % 23 = 1 and k % 7 <> 3 and k % 11 <> 0 then t end,
       case when k % 23 = 1 and k % 7 <> 3 and k % 11 <> 0 then 'test' end,
       case when k % 23 = 1 then null when k % 29 = 2 then 'DELETING' when k % 31 = 4 then 'DELETED' end
  from (values ('d-a', 'bk1', false, null::jsonb, 0),
               ('d-b', 'bk2', false, null, 1),
               ('d-c', 'bk1', false, '{"period": "1d", "redundancy": 1}', 2),
               ('gone', 'bk1', false, '{"period": "3d", "redundancy": 2, "timezone": "Asia/Kolkata"}', 3),
               ('snap-x', 'bk2', true, '{"period": "2d"}', 4)) as g(name, server, snap, retention, n)
 cross join generate_series(0, $2::int - 1) as k
 cross join lateral (select $1::timestamptz - make_interval(hours => (k / 2) * 9 + g.n)
                            + case when k % 5 = 0 then interval '500 microseconds' else interval '0' end as t) as tt`;

for (const backend of BACKENDS) {
  describe(`retention plan read in batches (${backend} catalogue)`, () => {
    let catalogue: TestCatalogue;
    let root: string;

    before(async () => {
      catalogue = await createTestCatalogue(backend, 'plan-batches');
      root = await mkdtemp(join(tmpdir(), 'pgbackman-plan-batches-'));
      const dir = await writeTree({ 'setup.yaml': manifests(root) });
      const applied = await runCli(['--catalogue', catalogue.location, 'apply', dir, '--auto-approve']);
      assert.equal(applied.code, 0, applied.stderr);
      await withCatalogue(catalogue.location, 'test', (db) =>
        db.query(INSERT_RUNS, [new Date(NOW).toISOString(), 300]),
      );
    });
    after(async () => {
      await catalogue?.drop();
      await rm(root, { recursive: true, force: true });
    });

    for (const [label, filter] of [
      ['every dump', {}],
      ['one server', { server: 'bk1' }],
      ['named definitions, a deleted one and a snapshot', { names: ['d-b', 'gone', 'snap-x'] }],
    ] as const) {
      test(`${label}: batches of any size plan exactly what the whole plan does`, async () => {
        await withCatalogue(catalogue.location, 'test', async (db) => {
          const input = await readRetentionInput(db, filter);
          const whole = planRetention(input.runs, input.current, NOW);
          assert.ok(whole.dumps.length > 250, `only ${whole.dumps.length} dumps planned`);
          for (const size of [1, 97, 2_000]) {
            const plan = await planInBatches(db, filter, NOW, () => ['bk1'], size);
            const dumps: PlannedDump[] = [];
            const paths: string[] = [];
            for await (const batch of plan.batches())
              for (const group of batch.groups) {
                dumps.push(...group.dumps);
                paths.push(...group.paths);
              }
            assert.deepEqual(dumps, whole.dumps, `batches of ${size} runs`);
            assert.deepEqual(plan.summary, whole.summary);
            const expected = input.runs
              .filter((r) => r.server === 'bk1' && r.dumpPath !== null)
              .map((r) => r.dumpPath as string);
            assert.deepEqual(paths.sort(), expected.sort());
          }
        });
      });
    }
  });
}
