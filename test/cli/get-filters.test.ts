import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { checkGetFilters } from '../../src/cli/get-filters.ts';
import { createTestCatalogue, type TestCatalogue } from '../support/catalogues.ts';
import { assertNoStackTrace, runCli } from '../support/run-cli.ts';
import { withClient } from '../support/test-database.ts';

test('a filter a resource does not have is refused, naming the ones it has', () => {
  const cases: [string, Record<string, unknown>, string | null][] = [
    ['servers', { node: 'pg1' }, 'get servers has no --node filter (it takes --server)'],
    ['server', { server: 'b1' }, null],
    [
      'nodes',
      { server: 'b1', database: 'x' },
      'get nodes has no --server or --database filter (it takes --node)',
    ],
    ['backups', { uncovered: true }, 'get backups has no --uncovered filter'],
    ['backups', { uncovered: false, all: false, limit: 3 }, null],
    ['definitions', { failing: true, neverSucceeded: true, node: 'pg1' }, null],
    ['snapshots', { failing: true }, 'get snapshots has no --failing filter'],
    ['policies', { node: 'pg1' }, 'get policies has no --node filter (it takes --server)'],
    ['restores', { verify: 'OK' }, 'get restores has no --verify filter'],
    ['databases', { neverSucceeded: true }, 'get databases has no --never-succeeded filter'],
    ['nonsense', { node: 'x' }, null],
  ];
  for (const [resource, flags, error] of cases) {
    const run = () => checkGetFilters(resource, flags);
    if (error === null) assert.doesNotThrow(run, resource);
    else
      assert.throws(run, (e: Error) => e.message.startsWith(error), `${resource} ${JSON.stringify(flags)}`);
  }
});

describe('get definitions: --failing, --never-succeeded and effective settings', () => {
  let catalogue: TestCatalogue;
  const cli = async (...args: string[]) => {
    const r = await runCli(['--catalogue', catalogue.location, ...args]);
    assertNoStackTrace(r);
    return r;
  };
  const names = async (...args: string[]) => {
    const r = await cli('get', 'definitions', '--server', 'single-backup01', '-o', 'json', ...args);
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as { name: string }[]).map((d) => d.name);
  };
  before(async () => {
    catalogue = await createTestCatalogue('postgres', 'get-filters');
    const r = await cli('apply', 'examples', '--auto-approve');
    assert.equal(r.code, 0, r.stderr);
    // shop: succeeded, then failed (failing); crm: only failed (failing, never succeeded); cluster: succeeded.
    await withClient(catalogue.location, (c) =>
      c.query(`insert into pgbackman.backup_runs (server, node, database, code, definition, status, started_at, finished_at, error) values
        ('single-backup01', 'single-pg01', 'shop', 'FULL', 'single-shop-nightly', 'SUCCEEDED', '2026-11-20T02:30:00Z', '2026-11-20T02:31:00Z', null),
        ('single-backup01', 'single-pg01', 'shop', 'FULL', 'single-shop-nightly', 'FAILED', '2026-11-21T02:30:00Z', '2026-11-21T02:30:05Z', 'connection refused'),
        ('single-backup01', 'single-pg01', 'crm', 'FULL', 'single-crm-auto', 'FAILED', '2026-11-21T01:23:00Z', '2026-11-21T01:23:01Z', 'database "crm" does not exist'),
        ('single-backup01', 'single-pg01', null, 'CLUSTER', 'single-pg01-cluster', 'FAILED', '2026-11-20T00:15:00Z', '2026-11-20T00:15:01Z', 'disk full'),
        ('single-backup01', 'single-pg01', null, 'CLUSTER', 'single-pg01-cluster', 'SUCCEEDED', '2026-11-21T00:15:00Z', '2026-11-21T00:16:00Z', null)`),
    );
  });
  after(async () => {
    await catalogue?.drop();
  });

  test('--failing lists the definitions whose last run failed after their last success', async () => {
    assert.deepEqual(await names('--failing'), ['single-crm-auto', 'single-shop-nightly']);
  });

  test('--never-succeeded lists the definitions with no good dump yet, run or not', async () => {
    const all = await names();
    const never = await names('--never-succeeded');
    assert.ok(never.includes('single-crm-auto'));
    assert.deepEqual(
      never,
      all.filter((n) => n !== 'single-shop-nightly' && n !== 'single-pg01-cluster'),
    );
    assert.deepEqual(await names('--failing', '--never-succeeded'), ['single-crm-auto']);
  });

  test('a filter the resource does not have is a usage error, not an empty list', async () => {
    const r = await cli('get', 'servers', '--node', 'single-pg01');
    assert.deepEqual(
      [r.code, r.stdout, r.stderr],
      [64, '', 'error[USAGE]: get servers has no --node filter (it takes --server)\n'],
    );
    const s = await cli('get', 'snapshots', '--failing');
    assert.equal(s.code, 64);
    assert.match(s.stderr, /get snapshots has no --failing filter \(it takes --server, --node, --database\)/);
  });

  test('effective settings: inherited ones are marked with where they come from', async () => {
    const r = await cli('get', 'definitions', '--server', 'single-backup01');
    assert.equal(r.code, 0, r.stderr);
    // crm sets neither code nor retention: FULL is the built-in default, 7d/keep 2 the server's.
    assert.match(r.stdout, /single-crm-auto\s+.*\s+FULL \(default\)\s+auto\s+.*\s+7d, keep 2 \(server\)\s/);
    // shop sets both itself: no mark.
    assert.match(r.stdout, /single-shop-nightly\s+.*\s+FULL\s+30 2 .*\s+14d, keep 3\s+-\n/);
    const json = JSON.parse(
      (await cli('get', 'definitions', '--server', 'single-backup01', '-o', 'json')).stdout,
    ) as { name: string; effective: Record<string, unknown>; inherited: Record<string, string> }[];
    const crm = json.find((d) => d.name === 'single-crm-auto');
    assert.deepEqual(crm?.effective.retention, { period: '7d', redundancy: 2 });
    assert.equal(crm?.effective.timezone, 'Europe/Oslo');
    // Every setting is a key, none left out for being unset.
    assert.deepEqual([crm?.effective.compression, crm?.effective.encryption], [null, null]);
    assert.equal(crm?.inherited.retention, 'server');
    assert.equal(crm?.inherited.timezone, 'server');
    assert.equal(crm?.inherited.code, 'builtin');
    const shop = json.find((d) => d.name === 'single-shop-nightly');
    assert.equal(shop?.inherited.code, undefined);
  });
});
