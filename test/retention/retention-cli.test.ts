import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rename, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTestCatalogue, type TestCatalogue } from '../support/catalogues.ts';
import { localSetup } from '../support/fixtures.ts';
import { assertNoStackTrace, REPO_ROOT, runCli, writeTree } from '../support/run-cli.ts';
import { createSourceDatabase, testServerUrl, withClient } from '../support/test-database.ts';

const DB = 'retention_source';

interface PlanJson {
  dumps: {
    id: string;
    definition: string;
    status: string;
    action: string;
    reasons: string[];
    pinned: boolean;
  }[];
  summary: { delete: number; keep: number; deleting: number };
  unknown: string[];
}

describe('pgbackman retention plan and apply, on real dumps', () => {
  let catalogue: TestCatalogue;
  let root: string;
  let manifests: string;
  const node = new URL(testServerUrl());
  const cli = (...args: string[]) => runCli(['--catalogue', catalogue.location, ...args]);
  const setup = (definitions: Record<string, string>) =>
    localSetup({ root, host: node.hostname, port: node.port, definitions });
  const apply = async (definitions: Record<string, string>) => {
    manifests = await writeTree({ 'setup.yaml': setup(definitions) });
    const r = await cli('apply', manifests, '--auto-approve');
    assert.equal(r.code, 0, r.stderr);
  };
  const run = async (name: string) => (await cli('run', name)).code;
  const sql = (text: string, params: unknown[] = []) =>
    withClient(catalogue.location, async (c) => (await c.query(text, params)).rows);
  /** Dumps of a definition, oldest first, as the catalogue has them. */
  const dumps = (definition: string) =>
    sql(
      `select id::text, status, dump_path, deletion from pgbackman.backup_runs where definition = $1 order by started_at`,
      [definition],
    ) as Promise<{ id: string; status: string; dump_path: string | null; deletion: string | null }[]>;
  /** Moves a definition's runs back in time: the n-th oldest by `days[n]` days. */
  const age = async (definition: string, days: number[]) => {
    const rows = await dumps(definition);
    for (const [i, r] of rows.entries())
      await sql(
        `update pgbackman.backup_runs set started_at = started_at - make_interval(days => $2),
                finished_at = finished_at - make_interval(days => $2) where id = $1::uuid`,
        [r.id, days[i] ?? 0],
      );
  };
  const plan = async (...args: string[]) => {
    const r = await cli('retention', 'plan', '-o', 'json', ...args);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as PlanJson;
  };

  before(async () => {
    catalogue = await createTestCatalogue('postgres', 'retention');
    root = await mkdtemp(join(tmpdir(), 'pgbackman-retention-root-'));
    await createSourceDatabase(DB);
  });
  after(async () => {
    await catalogue?.drop();
    await rm(root, { recursive: true, force: true });
  });

  test('redundancy 2 with 4 good and 2 failed dumps, all old: the plan says so, apply deletes the rest, files and rows agree', async () => {
    const good = `database: ${DB}, retention: {period: 7d, redundancy: 2}`;
    await apply({ nightly: good });
    for (let i = 0; i < 4; i++) assert.equal(await run('nightly'), 0);
    await apply({ nightly: `database: no_such_db, retention: {period: 7d, redundancy: 2}` });
    for (let i = 0; i < 2; i++) assert.equal(await run('nightly'), 1);
    await apply({ nightly: good });
    await age('nightly', [60, 50, 40, 30, 20, 10]);
    const p = await plan('nightly');
    assert.deepEqual(
      p.dumps.map((d) => `${d.status} ${d.action} ${d.reasons.join('; ')}`),
      [
        'SUCCEEDED delete expired: older than 7d',
        'SUCCEEDED delete expired: older than 7d',
        'SUCCEEDED keep redundancy',
        'SUCCEEDED keep redundancy',
        'FAILED delete failed run older than 7d',
        'FAILED delete failed run older than 7d',
      ],
    );
    const text = await cli('retention', 'plan', 'nightly');
    assert.match(text.stdout, /BackupDefinition\/nightly/);
    assert.match(text.stdout, /- [0-9a-f]{8} .* SUCCEEDED .* delete {2}expired: older than 7d/);
    assert.match(text.stdout, /Retention: 4 to delete \([\d.]+ [KMG]?i?B\), 2 kept\.$/m);

    const before = await dumps('nightly');
    const r = await cli('retention', 'apply', 'nightly', '--auto-approve');
    assertNoStackTrace(r);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /Retention complete! 4 deleted/);
    const afterRows = await dumps('nightly');
    assert.deepEqual(
      afterRows.map((d) => `${d.status} ${d.deletion}`),
      [
        'SUCCEEDED DELETED',
        'SUCCEEDED DELETED',
        'SUCCEEDED null',
        'SUCCEEDED null',
        'FAILED DELETED',
        'FAILED DELETED',
      ],
    );
    for (const [i, d] of before.entries())
      if (d.dump_path !== null) assert.equal(existsSync(d.dump_path), i >= 2, `dump ${i}'s files`);
    // stats' tallies follow the deletions and were merged by the apply: one row per node and status.
    const tallies = await withClient(catalogue.location, (c) =>
      c.query(
        'select count(*)::int as n from pgbackman.run_tallies group by server, node, status having count(*) > 1',
      ),
    );
    assert.equal(tallies.rowCount, 0, 'merged');
    const stats = JSON.parse((await cli('stats', '-o', 'json')).stdout);
    assert.equal(stats.dumps.byStatus.SUCCEEDED, afterRows.filter((d) => d.deletion === null).length);
    assert.equal(stats.dumps.byStatus.FAILED, 0);
    const listed = JSON.parse((await cli('get', 'backups', '-o', 'json')).stdout) as { id: string }[];
    assert.deepEqual(listed.map((b) => b.id).sort(), [before[2]?.id, before[3]?.id].sort());
    const gone = JSON.parse((await cli('get', 'backups', '--status', 'DELETED', '-o', 'json')).stdout) as {
      deletedReason: string;
    }[];
    assert.equal(gone.length, 4);
    assert.ok(gone.every((b) => /older than 7d/.test(b.deletedReason)));
    // The next plan has nothing more to do.
    assert.equal((await plan('nightly')).summary.delete, 0);
  });

  test('--at shows what a later date will delete, and changes nothing', async () => {
    const p = await plan('nightly', '--at', new Date(Date.now() + 400 * 86_400_000).toISOString());
    assert.deepEqual(
      p.dumps.map((d) => d.action),
      ['keep', 'keep'],
      'redundancy keeps the two newest whatever the date',
    );
    await expectUsage(cli('retention', 'plan', '--at', 'next tuesday'), /--at "next tuesday" is not a time/);
  });

  test('a pinned dump outlives every rule; unpinned, the next sweep takes it', async () => {
    await apply({ nightly: `database: ${DB}, retention: {period: 7d, redundancy: 1}` });
    const [older] = (await dumps('nightly')).filter((d) => d.deletion === null);
    assert.ok(older);
    const pinned = await cli('pin', older.id, '--reason', 'audit');
    assert.equal(pinned.code, 0, pinned.stderr);
    const p = await plan('nightly');
    assert.deepEqual(p.dumps.find((d) => d.id === older.id)?.reasons, ['pinned']);
    await cli('retention', 'apply', 'nightly', '--auto-approve');
    assert.ok(existsSync(older.dump_path as string));
    assert.equal((await cli('unpin', older.id.slice(0, 8))).code, 0);
    const r = await cli('retention', 'apply', 'nightly', '--auto-approve');
    assert.match(r.stdout, /Retention complete! 1 deleted/);
    assert.ok(!existsSync(older.dump_path as string));
  });

  test('a sweep that died after DELETING is finished by the next one; meanwhile the dump is not listed as available', async () => {
    for (let i = 0; i < 2; i++) assert.equal(await run('nightly'), 0);
    const [victim] = (await dumps('nightly')).filter((d) => d.deletion === null);
    assert.ok(victim);
    // Where a SIGKILL between the two steps leaves it: recorded DELETING, its files still there.
    await sql(
      `update pgbackman.backup_runs set deletion = 'DELETING', deleted_reason = 'expired' where id = $1::uuid`,
      [victim.id],
    );
    const listed = JSON.parse(
      (await cli('get', 'backups', '--status', 'SUCCEEDED', '-o', 'json')).stdout,
    ) as {
      id: string;
      deletion: string | null;
    }[];
    assert.equal(listed.find((b) => b.id === victim.id)?.deletion, 'DELETING');
    const p = await plan('nightly');
    assert.equal(p.summary.deleting, 1);
    assert.deepEqual(p.dumps.find((d) => d.id === victim.id)?.action, 'delete');
    const r = await cli('retention', 'apply', 'nightly', '--auto-approve');
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!existsSync(victim.dump_path as string));
    assert.equal((await dumps('nightly')).find((d) => d.id === victim.id)?.deletion, 'DELETED');
  });

  test('SIGKILL in the middle of a sweep: the dump stays DELETING, never listed as available, and the next sweep finishes it', async () => {
    assert.equal(await run('nightly'), 0);
    const rows = (await dumps('nightly')).filter((d) => d.deletion === null && d.status === 'SUCCEEDED');
    const victim = rows[0];
    assert.ok(victim?.dump_path);
    await sql(
      "update pgbackman.backup_runs set finished_at = now() - interval '30 days' where id = $1::uuid",
      [victim.id],
    );
    // Many files make the removal slow enough to kill the process inside it.
    const dir = dirname(victim.dump_path);
    for (let i = 0; i < 30_000; i++) writeFileSync(join(dir, `pad-${i}`), '');
    const child = spawn(
      process.execPath,
      [
        join(REPO_ROOT, 'bin', 'pgbackman.js'),
        '--catalogue',
        catalogue.location,
        'retention',
        'apply',
        'nightly',
        '--auto-approve',
      ],
      { stdio: 'ignore' },
    );
    const exited = new Promise((resolve) => child.on('exit', resolve));
    for (let i = 0; i < 2000; i++) {
      const [row] = await sql('select deletion from pgbackman.backup_runs where id = $1::uuid', [victim.id]);
      if (row?.deletion === 'DELETING') break;
      await sleep(5);
    }
    child.kill('SIGKILL');
    await exited;
    const [row] = await sql('select deletion from pgbackman.backup_runs where id = $1::uuid', [victim.id]);
    assert.equal(row?.deletion, 'DELETING', 'killed between the two steps');
    assert.ok(existsSync(dir), 'its directory is still (partly) there');
    const listed = JSON.parse((await cli('get', 'backups', '-o', 'json')).stdout) as {
      id: string;
      deletion: string | null;
    }[];
    assert.equal(listed.find((b) => b.id === victim.id)?.deletion, 'DELETING');
    const r = await cli('retention', 'apply', 'nightly', '--auto-approve');
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!existsSync(dir));
    assert.equal((await dumps('nightly')).find((d) => d.id === victim.id)?.deletion, 'DELETED');
  });

  test('a dump directory replaced by a symlink to outside the root is refused and kept, and so is what it points to', async () => {
    const [victim] = (await dumps('nightly')).filter((d) => d.deletion === null);
    assert.ok(victim?.dump_path);
    await age('nightly', [0, 0, 0, 0, 0, 0, 0, 0, 0, 30]);
    await sql(
      "update pgbackman.backup_runs set finished_at = now() - interval '30 days' where id = $1::uuid",
      [victim.id],
    );
    const outside = await mkdtemp(join(tmpdir(), 'pgbackman-outside-'));
    writeFileSync(join(outside, 'precious'), 'not a dump');
    const dir = dirname(victim.dump_path);
    await rm(dir, { recursive: true });
    await symlink(outside, dir);
    const r = await cli('retention', 'apply', 'nightly', '--auto-approve');
    assertNoStackTrace(r);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      new RegExp(`warning: kept ${victim.id} .*: not deleting .*: it is a symbolic link`),
    );
    assert.ok(existsSync(join(outside, 'precious')));
    assert.equal((await dumps('nightly')).find((d) => d.id === victim.id)?.deletion, null);
    await rm(dir);
    await rm(outside, { recursive: true, force: true });
  });

  test('an unknown folder under the root is reported by the plan and never deleted', async () => {
    const stray = join(root, 'n1', DB, 'copied-by-hand');
    mkdirSync(stray, { recursive: true });
    writeFileSync(join(stray, 'old.dump'), 'x');
    const p = await plan();
    assert.deepEqual(p.unknown, [stray]);
    const text = await cli('retention', 'plan');
    assert.match(text.stdout, new RegExp(`\\? ${stray.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}  unknown`));
    await cli('retention', 'apply', '--auto-approve');
    assert.ok(existsSync(join(stray, 'old.dump')));
  });

  test('a deleted definition: its dumps age out under the rules they were taken with, the newest good ones stay', async () => {
    await apply({
      nightly: `database: ${DB}, retention: {period: 7d, redundancy: 1}`,
      gone: `database: ${DB}, retention: {period: 1d, redundancy: 2}`,
    });
    for (let i = 0; i < 3; i++) assert.equal(await run('gone'), 0);
    await age('gone', [30, 20, 10]);
    await apply({ nightly: `database: ${DB}, retention: {period: 7d, redundancy: 1}` });
    const p = await plan('gone');
    assert.deepEqual(
      p.dumps.map((d) => `${d.action} ${d.reasons.join('; ')}`),
      ['delete expired: older than 1d', 'keep redundancy', 'keep redundancy'],
    );
  });

  test('purge: a live definition is refused; a removed one loses every dump but the pinned one, after --confirm', async () => {
    const live = await cli('purge', 'nightly', '--confirm');
    assertNoStackTrace(live);
    assert.equal(live.code, 1);
    assert.match(
      live.stderr,
      /BackupDefinition\/nightly is still in the catalogue: remove it from the manifests first/,
    );
    const rows = (await dumps('gone')).filter((d) => d.deletion === null);
    assert.equal(rows.length, 3);
    const [keep] = rows;
    assert.equal((await cli('pin', keep?.id as string, '--reason', 'legal hold')).code, 0);
    const dry = await cli('purge', 'gone');
    assert.equal(dry.code, 1);
    assert.match(dry.stderr, /pass --confirm to delete the 2 dumps marked -; nothing was deleted/);
    assert.equal((await dumps('gone')).filter((d) => d.deletion === null).length, 3);
    const r = await cli('purge', 'gone', '--confirm');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Purge complete! 2 deleted/);
    const after = await dumps('gone');
    assert.deepEqual(
      after.map((d) => d.deletion),
      [null, 'DELETED', 'DELETED'],
    );
    for (const d of after.slice(1)) assert.ok(!existsSync(d.dump_path as string));
    assert.ok(existsSync(keep?.dump_path as string));
  });

  test('with the catalogue unreachable nothing is deleted', async () => {
    const r = await runCli([
      '--catalogue',
      'postgres://postgres@127.0.0.1:1/nowhere',
      'retention',
      'apply',
      '--auto-approve',
    ]);
    assertNoStackTrace(r);
    assert.equal(r.code, 1);
    for (const name of ['nightly', 'gone'])
      for (const d of await dumps(name))
        if (d.deletion === null) assert.ok(d.dump_path === null || existsSync(d.dump_path));
  });

  test('apply without a terminal and without --auto-approve asks for neither and deletes nothing', async () => {
    for (let i = 0; i < 2; i++) assert.equal(await run('nightly'), 0);
    await sql(
      "update pgbackman.backup_runs set finished_at = finished_at - interval '90 days' where definition = 'nightly'",
    );
    const before = (await plan('nightly')).summary.delete;
    assert.ok(before > 0);
    const r = await cli('retention', 'apply', 'nightly');
    assertNoStackTrace(r);
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      /retention apply needs approval: run it in a terminal and answer yes, or pass --auto-approve; nothing was changed/,
    );
    assert.equal((await plan('nightly')).summary.delete, before);
  });

  test('a name the catalogue does not know is an error', async () => {
    const r = await cli('retention', 'plan', 'nightlyy');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /"nightlyy" is neither a definition or snapshot in the catalogue nor on any dump/);
  });

  test('more runs than one batch reads (13,500 of three definitions): apply deletes exactly what the plan showed, rows and files alike', async () => {
    const wide = `database: ${DB}, retention: {period: 180d, redundancy: 1}`;
    await apply({ wide1: wide, wide2: wide, wide3: wide });
    assert.equal(await run('wide1'), 0);
    // Copies of that dump's row, one an hour back for 4,500 hours per definition, each with a directory.
    const rows = (await sql(
      `with g as (select gen_random_uuid() as id, d, i
                    from unnest(array['wide1', 'wide2', 'wide3']) as d, generate_series(1, 4500) as i)
       insert into pgbackman.backup_runs (id, server, node, database, code, definition, status, started_at,
                                          finished_at, dump_bytes, dump_path, retention)
       select g.id, r.server, r.node, r.database, r.code, g.d, 'SUCCEEDED', now() - make_interval(hours => g.i),
              now() - make_interval(hours => g.i), 1000, $1 || '/wide/' || g.d || '/' || g.i || '-' || left(g.id::text, 8) || '/dump',
              r.retention
         from g, pgbackman.backup_runs r where r.definition = 'wide1'
       returning id::text, dump_path`,
      [root],
    )) as { id: string; dump_path: string }[];
    for (const r of rows) mkdirSync(dirname(r.dump_path), { recursive: true });
    const shown = await plan('wide1', 'wide2', 'wide3');
    assert.equal(shown.dumps.length, 13_501);
    assert.deepEqual(shown.unknown, []);
    const doomed = new Set(shown.dumps.filter((d) => d.action === 'delete').map((d) => d.id));
    // 180 days are 4,320 hours: what is older goes, on each definition.
    assert.ok(doomed.size >= 3 * 170 && doomed.size <= 3 * 181, `${doomed.size} to delete`);

    const r = await cli('retention', 'apply', 'wide1', 'wide2', 'wide3', '--auto-approve');
    assertNoStackTrace(r);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.match(/^ {4}- /gm)?.length, doomed.size, 'each deletion listed before it happens');
    assert.match(r.stdout, new RegExp(`Retention complete! ${doomed.size} deleted`));
    const deleted = (await sql(
      `select id::text from pgbackman.backup_runs where deletion = 'DELETED' and definition like 'wide%'`,
    )) as { id: string }[];
    assert.deepEqual(new Set(deleted.map((d) => d.id)), doomed);
    for (const row of rows)
      assert.equal(existsSync(dirname(row.dump_path)), !doomed.has(row.id), row.dump_path);
    assert.equal((await plan('wide1', 'wide2', 'wide3')).summary.delete, 0);
  });

  test("apply away from the server's root (another host): refused before anything is planned or deleted", async () => {
    const away = `${root}-elsewhere`;
    const before = await sql(`select id::text, deletion from pgbackman.backup_runs order by id`);
    await rename(root, away);
    try {
      const r = await cli('retention', 'apply', '--auto-approve');
      assertNoStackTrace(r);
      assert.equal(r.code, 64);
      assert.match(
        r.stderr,
        /BackupServer\/local's root directory .* is not on this host: run retention apply on that server's host; nothing was deleted/,
      );
      assert.equal(r.stdout, '');
    } finally {
      await rename(away, root);
    }
    assert.deepEqual(await sql(`select id::text, deletion from pgbackman.backup_runs order by id`), before);
  });
});

async function expectUsage(p: ReturnType<typeof runCli>, message: RegExp): Promise<void> {
  const r = await p;
  assertNoStackTrace(r);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, message);
}
