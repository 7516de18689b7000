import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { BACKENDS, createTestCatalogue, type TestCatalogue } from '../support/catalogues.ts';
import { assertNoStackTrace, runCli } from '../support/run-cli.ts';
import { withClient } from '../support/test-database.ts';

for (const backend of BACKENDS) {
  describe(`get and describe (${backend} catalogue)`, () => {
    let catalogue: TestCatalogue;
    const cli = async (...args: string[]) => {
      const r = await runCli(['--catalogue', catalogue.location, ...args]);
      assertNoStackTrace(r);
      return r;
    };
    // The embedded catalogue (seconds a command) runs the first case; the rest is the commands' own logic.
    const postgresOnly = (name: string, fn: () => Promise<void>): void => {
      if (backend === 'postgres') test(name, fn);
    };
    before(async () => {
      catalogue = await createTestCatalogue(backend, 'get');
      const r = await cli('apply', 'examples', '--auto-approve');
      assert.equal(r.code, 0, r.stderr);
    });
    after(async () => {
      await catalogue?.drop();
    });

    test('get definitions prints a table, filtered by server', async () => {
      const r = await cli('get', 'definitions', '--server', 'single-backup01');
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.trimEnd().split('\n');
      assert.match(
        lines[0] ?? '',
        /^NAME\s+SERVER\s+NODE\s+DATABASE\s+CODE\s+SCHEDULE\s+RESOLVED\s+NEXT RUN\s+RETENTION\s+FLAGS$/,
      );
      assert.ok(lines.slice(1).every((l) => l.includes('single-backup01')));
      assert.match(
        r.stdout,
        /single-shop-nightly\s+single-backup01\s+single-pg01\s+shop\s+FULL\s+30 2 \* \* \*\s+30 2 \* \* \* Europe\/Oslo\s+\d{4}-\d\d-\d\dT0[01]:30:00Z\s+14d, keep 3/,
      );
      // auto: a minute of single-pg01's 01:00-05:00 window from sha256("BackupDefinition/single-crm-auto").
      assert.match(r.stdout, /single-crm-auto\s+.*\s+auto\s+auto \(01:23\)\s+\d{4}-\d\d-\d\dT01:23:00Z\s/);
    });

    postgresOnly('get -o json is stable for scripts', async () => {
      const r = await cli('get', 'servers', '-o', 'json');
      const servers = JSON.parse(r.stdout);
      assert.equal(servers.length, 5);
      assert.deepEqual(Object.keys(servers[0]).sort(), [
        'annotations',
        'createdAt',
        'generation',
        'kind',
        'labels',
        'managed',
        'name',
        'source',
        'spec',
        'updatedAt',
      ]);
    });

    postgresOnly('describe KIND/NAME shows the spec, where it came from and its last runs', async () => {
      const r = await cli('describe', 'definition/single-shop-nightly');
      assert.equal(r.code, 0, r.stderr);
      assert.match(
        r.stdout,
        /^address: BackupDefinition\/single-shop-nightly\nmanaged: true\ngeneration: 1\nsource:\n {2}file: examples\/single-server\/definitions\.yaml\n/,
      );
      assert.match(r.stdout, /\nlastRuns: \[\]\n$/);
      const missing = await cli('describe', 'BackupDefinition/nope');
      assert.deepEqual(
        [missing.code, missing.stderr],
        [1, 'error[NOT_FOUND]: BackupDefinition/nope is not in the catalogue\n'],
      );
    });

    postgresOnly('get backups with none says so on stderr', async () => {
      const r = await cli('get', 'backups');
      assert.deepEqual([r.code, r.stdout, r.stderr], [0, '', 'No backups found.\n']);
    });

    if (backend === 'postgres') {
      test('get backups and describe backup show a catalogued dump', async () => {
        await withClient(catalogue.location, (c) =>
          c.query(`insert into pgbackman.backup_runs (id, server, node, database, code, definition, status, started_at, finished_at, duration_ms, dump_bytes)
                   values ('6f1c2d3e-0000-4000-8000-000000000001', 'single-backup01', 'single-pg01', 'shop', 'FULL', 'single-shop-nightly', 'SUCCEEDED', '2026-11-20T02:30:00Z', '2026-11-20T02:31:05Z', 65000, 1048576)`),
        );
        const list = await cli('get', 'backups', '--definition-less-flag-check');
        assert.equal(list.code, 64);
        const r = await cli('get', 'backups', '--status', 'succeeded', '--since', '2026-11-01T00:00:00Z');
        assert.match(
          r.stdout,
          /6f1c2d3e\s+SUCCEEDED\s+-\s+single-backup01\s+single-pg01\s+shop\s+FULL\s+single-shop-nightly\s+2026-11-20 02:30:00Z\s+65\.0s\s+1\.0 MiB/,
        );
        const d = await cli('describe', 'backup', '6f1c2d3e');
        assert.match(d.stdout, /^id: 6f1c2d3e-0000-4000-8000-000000000001\nstatus: SUCCEEDED\n/);
        const runs = await cli('describe', 'definition/single-shop-nightly');
        assert.match(
          runs.stdout,
          /lastRuns:\n {2}- id: 6f1c2d3e-0000-4000-8000-000000000001\n {4}status: SUCCEEDED/,
        );
      });
    }
  });
}
