import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { type RunEnd, type RunStart, upsertRun } from '../../src/catalogue/backup-runs.ts';
import { withCatalogue } from '../../src/catalogue/open-catalogue.ts';
import { BACKENDS, createTestCatalogue, type TestCatalogue } from '../support/catalogues.ts';
import { assertNoStackTrace, runCli, writeTree } from '../support/run-cli.ts';

const HEADER = 'apiVersion: pgbackman.io/v1';
const server = (name: string, extra = '') =>
  `${HEADER}\nkind: BackupServer\nmetadata: { name: ${name} }\nspec: { hostname: ${name}.example.net${extra} }\n`;
const node = (name: string, extra = '') =>
  `${HEADER}\nkind: PgSQLNode\nmetadata: { name: ${name} }\nspec: { host: ${name}.example.net${extra} }\n`;
const definition = (name: string, srv: string, nd: string, schedule: string) =>
  `${HEADER}\nkind: BackupDefinition\nmetadata: { name: ${name} }\nspec: { server: ${srv}, node: ${nd}, database: ${name.replace(/-/g, '_')}, schedule: "${schedule}" }\n`;

const snapshot = (name: string, at: string) =>
  `${HEADER}\nkind: SnapshotDefinition\nmetadata: { name: ${name} }\nspec: { server: b01, node: pg01, database: shop, at: "${at}" }\n`;

const MANIFESTS = [
  server('b01'),
  server('b02'),
  node('pg01', ', backupWindow: { start: "22:00", end: "04:00" }, defaults: { timezone: Europe/Oslo }'),
  node('pg02', ', suspend: true'),
  definition('ok-daily', 'b01', 'pg01', '0 3 * * *'),
  definition('late-daily', 'b01', 'pg01', '0 3 * * *'),
  definition('failing-daily', 'b01', 'pg01', '0 3 * * *'),
  definition('fresh-auto', 'b01', 'pg01', 'auto'),
  definition('paused', 'b01', 'pg02', '0 3 * * *'),
  definition('other-ok', 'b02', 'pg01', '*/5 * * * *'),
  snapshot('before-upgrade', '2099-01-01T00:00:00Z'),
  snapshot('taken', '2026-01-01T00:00:00Z'),
  snapshot('broken', '2026-01-01T00:00:00Z'),
].join('---\n');

const HOUR = 3_600_000;
const ago = (ms: number) => new Date(Date.now() - ms);

/** A finished run, recorded through the catalogue module the agent's spool uses. */
function run(
  definitionName: string,
  status: RunEnd['status'],
  finishedAgo: number,
  error: string | null = null,
) {
  const startedAt = ago(finishedAgo + 60_000);
  const start: RunStart = {
    id: randomUUID(),
    server: 'b01',
    node: 'pg01',
    database: definitionName.replace(/-/g, '_'),
    code: 'FULL',
    definition: definitionName,
    snapshot: null,
    startedAt,
    retention: { period: '7d', redundancy: 1 },
    host: 'test',
    pid: 1,
  };
  const end: RunEnd = {
    status,
    finishedAt: ago(finishedAgo),
    dumpBytes: status === 'SUCCEEDED' ? 2 * 1024 * 1024 : null,
    dumpPath: null,
    logPath: null,
    rolesPath: null,
    configPath: null,
    sha256: null,
    pgDumpVersion: null,
    serverVersion: null,
    databaseBytes: null,
    error,
  };
  return { start, end };
}

/** The same run, of a snapshot instead of a definition. */
function snapshotRun(
  name: string,
  status: RunEnd['status'],
  finishedAgo: number,
  error: string | null = null,
) {
  const r = run(name, status, finishedAgo, error);
  return { ...r, start: { ...r.start, definition: null, snapshot: name } };
}

const onServer = (server: string, r: ReturnType<typeof run>) => ({ ...r, start: { ...r.start, server } });

for (const backend of BACKENDS) {
  describe(`status (${backend} catalogue)`, () => {
    let catalogue: TestCatalogue;
    let dir: string;
    const cli = async (...args: string[]) => {
      const r = await runCli(['--catalogue', catalogue.location, ...args]);
      assertNoStackTrace(r);
      return r;
    };
    // The embedded catalogue costs an open per command: the cases about the command's own options run against
    // PostgreSQL only.
    const postgresOnly = (name: string, fn: () => Promise<void>): void => {
      if (backend === 'postgres') test(name, fn);
    };
    before(async () => {
      catalogue = await createTestCatalogue(backend, 'status');
      dir = await writeTree({ 'manifests/all.yaml': MANIFESTS });
      const r = await cli('apply', `${dir}/manifests`, '--auto-approve');
      assert.equal(r.code, 0, r.stderr);
      await withCatalogue(catalogue.location, 'test', async (db) => {
        for (const r of [
          run('ok-daily', 'FAILED', 30 * HOUR, 'pg_dump: error: connection refused'),
          run('ok-daily', 'SUCCEEDED', 60_000),
          run('late-daily', 'SUCCEEDED', 72 * HOUR),
          run('failing-daily', 'SUCCEEDED', 72 * HOUR),
          run('failing-daily', 'FAILED', HOUR, 'pg_dump: error: permission denied\nfor table x'),
          onServer('b02', run('other-ok', 'SUCCEEDED', 60_000)),
          snapshotRun('taken', 'SUCCEEDED', 24 * HOUR),
          snapshotRun('broken', 'FAILED', 24 * HOUR, 'pg_dump: error: server closed the connection'),
        ])
          await upsertRun(db, r);
      });
    });
    after(async () => {
      await catalogue?.drop();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    test('a table of every definition and pending snapshot; exit 1 when any is OVERDUE or FAILING', async () => {
      const r = await cli('status');
      assert.equal(r.code, 1, r.stderr);
      const lines = r.stdout.trimEnd().split('\n');
      assert.match(
        lines[0] ?? '',
        /^STATE\s+DEFINITION\s+SERVER\s+NODE\s+DATABASE\s+LAST SUCCESS\s+SIZE\s+LAST FAILURE\s+NEXT RUN$/,
      );
      const stateOf = (name: string) => lines.find((l) => l.split(/\s+/)[1] === name)?.split(/\s+/)[0];
      assert.deepEqual(
        [
          'ok-daily',
          'late-daily',
          'failing-daily',
          'fresh-auto',
          'paused',
          'other-ok',
          'snapshot:before-upgrade',
          'snapshot:broken',
          'snapshot:taken',
        ].map(stateOf),
        ['OK', 'OVERDUE', 'FAILING', 'NEVER', 'SUSPENDED', 'OK', 'NEVER', 'FAILING', undefined],
      );
      assert.match(
        r.stdout,
        /\bok-daily\s+b01\s+pg01\s+ok_daily\s+\S+Z\s+2\.0 MiB\s+-\s+\d{4}-\d\d-\d\dT0[12]:00:00Z\n/,
      );
      assert.match(r.stdout, /failing-daily .* \S+Z pg_dump: error: permission denied for table x\s+\S+Z\n/);
      assert.match(r.stdout, /paused .* suspended \(node pg02\)\n/);
      assert.match(r.stdout, /snapshot:before-upgrade .* 2099-01-01T00:00:00Z\n/);
      assert.match(r.stdout, /snapshot:broken .* pg_dump: error: server closed the connection\s+-\n/);
      assert.equal(lines.at(-1), '8 definitions: 2 OK, 1 OVERDUE, 2 FAILING, 2 NEVER, 1 SUSPENDED');
    });

    postgresOnly('-o json: last runs, next run, resolved schedule and a summary', async () => {
      const r = await cli('status', '-o', 'json', '--server', 'b01');
      assert.equal(r.code, 1, r.stderr);
      const report = JSON.parse(r.stdout);
      const byName = new Map(report.definitions.map((d: { name: string }) => [d.name, d]));
      assert.deepEqual(Object.keys(byName.get('ok-daily') as object), [
        'kind',
        'name',
        'server',
        'node',
        'database',
        'state',
        'lastSuccess',
        'lastFailure',
        'nextRunAt',
        'dueBy',
        'schedule',
        'suspended',
        'restoreTests',
      ]);
      const ok = byName.get('ok-daily') as Record<string, unknown>;
      assert.equal(ok.state, 'OK');
      assert.equal((ok.lastSuccess as { bytes: number }).bytes, 2 * 1024 * 1024);
      assert.equal(ok.lastFailure, null, 'a failure before the last success is history');
      // A cron is read in the definition's zone, here from its node's defaults.
      assert.deepEqual(ok.schedule, { cron: '0 3 * * *', timezone: 'Europe/Oslo', auto: false });
      const failing = byName.get('failing-daily') as { lastFailure: { error: string } };
      assert.match(failing.lastFailure.error, /^pg_dump: error: permission denied/);
      const auto = byName.get('fresh-auto') as {
        schedule: { auto: boolean; timezone: string; cron: string };
      };
      assert.deepEqual([auto.schedule.auto, auto.schedule.timezone], [true, 'Europe/Oslo']);
      assert.match(auto.schedule.cron, /^\d+ (22|23|0|1|2|3) \* \* \*$/);
      assert.deepEqual((byName.get('paused') as { suspended: unknown }).suspended, {
        by: 'node',
        name: 'pg02',
      });
      assert.equal(byName.has('other-ok'), false, '--server b01 leaves out b02');
      assert.equal(byName.has('taken'), false, 'a snapshot already taken is not pending');
      assert.deepEqual((byName.get('broken') as { schedule: unknown }).schedule, {
        at: '2026-01-01T00:00:00.000Z',
      });
      assert.deepEqual(report.summary, { total: 7, OK: 1, OVERDUE: 1, NEVER: 2, FAILING: 2, SUSPENDED: 1 });
    });

    postgresOnly('exit 0 when every definition is OK, NEVER or SUSPENDED', async () => {
      const r = await cli('status', '--server', 'b02');
      assert.deepEqual([r.code, r.stdout.trimEnd().split('\n').at(-1)], [0, '1 definition: 1 OK'], r.stderr);
    });

    postgresOnly('--grace: a longer grace is not OVERDUE; a bad duration is a usage error', async () => {
      const r = await cli('status', '--server', 'b01', '--grace', '4d', '-o', 'json');
      const late = JSON.parse(r.stdout).definitions.find((d: { name: string }) => d.name === 'late-daily');
      assert.equal(late.state, 'OK');
      const bad = await cli('status', '--grace', '10 minutes');
      assert.deepEqual(
        [bad.code, bad.stderr],
        [64, 'error[USAGE]: --grace: "10 minutes" is not a duration such as 10m, 30s, 1h or 1d\n'],
      );
    });

    postgresOnly('an unknown --server is NOT_FOUND, not an empty success', async () => {
      const r = await cli('status', '--server', 'nope');
      assert.deepEqual(
        [r.code, r.stderr],
        [1, 'error[NOT_FOUND]: BackupServer/nope is not in the catalogue\n'],
      );
    });

    postgresOnly('get definitions shows the resolved schedule and the next run', async () => {
      const r = await cli('get', 'definitions');
      assert.match(
        r.stdout,
        /^NAME\s+SERVER\s+NODE\s+DATABASE\s+CODE\s+SCHEDULE\s+RESOLVED\s+NEXT RUN\s+RETENTION\s+FLAGS\n/,
      );
      assert.match(r.stdout, /\nfresh-auto\s+.*\s+auto\s+auto \(\d\d:\d\d\) Europe\/Oslo\s+\S+Z\s/);
      assert.match(r.stdout, /\npaused\s+.*\s+0 3 \* \* \*\s+suspended \(node pg02\)\s/);
      const json = JSON.parse((await cli('get', 'definitions', '-o', 'json')).stdout);
      const paused = json.find((d: { name: string }) => d.name === 'paused');
      assert.deepEqual([paused.nextRunAt, paused.suspended], [null, { by: 'node', name: 'pg02' }]);
      const ok = json.find((d: { name: string }) => d.name === 'ok-daily');
      assert.deepEqual(ok.resolvedSchedule, { cron: '0 3 * * *', timezone: 'Europe/Oslo', auto: false });
      assert.match(ok.nextRunAt, /T0[12]:00:00\.000Z$/);
    });
  });
}
