import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { reconcileRevision } from '../../src/agent/reconcile-source.ts';
import { APPLY_LOCK } from '../../src/catalogue/lock.ts';
import { latestVersion } from '../../src/catalogue/migrations.ts';
import { openCatalogue } from '../../src/catalogue/open-catalogue.ts';
import { loadDesired } from '../../src/reconcile/load-desired.ts';
import { applyDesired } from '../../src/reconcile/reconcile.ts';
import { createTestCatalogue, type TestCatalogue } from '../support/catalogues.ts';
import { BASE, definition } from '../support/fixtures.ts';
import { assertNoStackTrace, REPO_ROOT, runCli, writeTree } from '../support/run-cli.ts';
import { createEmptyDatabase, withClient } from '../support/test-database.ts';
import { startThrowawayPostgres } from '../support/throwaway-postgres.ts';

const dropLater: { drop(): Promise<void> }[] = [];
after(async () => {
  for (const d of dropLater) await d.drop();
});

async function freshPostgres(label: string): Promise<TestCatalogue> {
  const c = await createTestCatalogue('postgres', label);
  dropLater.push(c);
  return c;
}

async function counts(url: string) {
  return withClient(url, async (c) => {
    const [head] = (await c.query('select serial::int as serial from pgbackman.catalogue')).rows;
    const [objects] = (await c.query('select count(*)::int as n from pgbackman.backup_servers')).rows;
    const [history] = (await c.query('select count(*)::int as n from pgbackman.apply_history')).rows;
    return { serial: head.serial, servers: objects.n, history: history.n };
  });
}

describe('catalogue faults', () => {
  test('an unreachable catalogue is named, with the reason and no password', async () => {
    const r = await runCli(['--catalogue', 'postgres://postgres:hunter2@127.0.0.1:1/cat', 'plan']);
    assertNoStackTrace(r);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      'error[CATALOGUE_UNREACHABLE]: cannot connect to the catalogue at postgres://postgres:***@127.0.0.1:1/cat: connection refused (is PostgreSQL running there?)\n',
    );
  });

  test('a wrong password says so', async () => {
    const server = await startThrowawayPostgres('password', { password: 'right' });
    try {
      const r = await runCli([
        '--catalogue',
        server.url.replace('postgres@', 'postgres:wrong@'),
        'catalogue',
        'status',
      ]);
      assertNoStackTrace(r);
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        /cannot connect to the catalogue at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/postgres: password authentication failed/,
      );
    } finally {
      await server.stop();
    }
  });

  test('apply refuses a catalogue without the schema, and migrate creates it', async () => {
    const db = await createEmptyDatabase('unmigrated');
    dropLater.push(db);
    const refused = await runCli(['--catalogue', db.url, 'apply', 'manifests', '--auto-approve']);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      new RegExp(
        `has no pgbackman schema yet; this pgbackman needs version ${latestVersion()}: run \`pgbackman catalogue migrate\``,
      ),
    );
    const migrated = await runCli(['--catalogue', db.url, 'catalogue', 'migrate']);
    assert.equal(migrated.code, 0, migrated.stderr);
    assert.match(migrated.stdout, new RegExp(`to schema version ${latestVersion()}\\.`));
    const again = await runCli(['--catalogue', db.url, 'catalogue', 'migrate']);
    assert.match(again.stdout, new RegExp(`is up to date \\(schema version ${latestVersion()}\\)`));
    await withClient(db.url, (c) =>
      c.query("insert into pgbackman.migrations (id, name) values (99, 'from_the_future')"),
    );
    const newer = await runCli(['--catalogue', db.url, 'apply', 'manifests', '--auto-approve']);
    assert.match(
      newer.stderr,
      new RegExp(
        `is at schema version 99, newer than this pgbackman \\(${latestVersion()}\\): upgrade pgbackman`,
      ),
    );
  });

  test('a second apply fails at once, naming the holder of the lock', async () => {
    const cat = await freshPostgres('locked');
    const holder = new pg.Client({
      connectionString: cat.location,
      application_name: 'pgbackman apply (the other one)',
    });
    await holder.connect();
    try {
      await holder.query('begin');
      await holder.query('select pg_advisory_xact_lock($1)', [APPLY_LOCK]);
      const r = await runCli(['--catalogue', cat.location, 'apply', 'manifests', '--auto-approve']);
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        /the catalogue is locked by pgbackman apply \(the other one\) \(pid \d+, user postgres\) since \d{4}-/,
      );
    } finally {
      await holder.query('rollback');
      await holder.end();
    }
    assert.deepEqual(await counts(cat.location), { serial: 0, servers: 0, history: 0 });
  });

  test("an agent's apply waits for another agent's apply of the same revision, then has nothing to do", async () => {
    const cat = await freshPostgres('agent-waits');
    const examples = join(REPO_ROOT, 'examples');
    const revision = 'main@sha1:1';
    const [alphaDb, betaDb] = [
      await openCatalogue(cat.location, 'a'),
      await openCatalogue(cat.location, 'b'),
    ];
    try {
      const load = await loadDesired([examples], { revision });
      assert.ok(load.ok);
      let beta: Promise<{ kind: string }> | undefined;
      const alpha = await applyDesired(alphaDb, load.desired, {
        revision,
        appliedBy: 'agent alpha',
        // Called while alpha holds the lock: beta starts then, and alpha takes its time.
        approve: async () => {
          beta = reconcileRevision(betaDb, {
            fetched: { revision, path: examples },
            root: REPO_ROOT,
            apply: true,
            appliedBy: 'agent beta',
          });
          await sleep(500);
          return true;
        },
      });
      assert.equal(alpha.outcome, 'applied');
      assert.equal(
        (await beta)?.kind,
        'unchanged',
        'beta waited for the lock, then found the revision applied',
      );
    } finally {
      await alphaDb.close();
      await betaDb.close();
    }
    assert.deepEqual(await counts(cat.location), { serial: 1, servers: 5, history: 1 });
  });

  test('two applies at once: one applies, the catalogue is consistent', async () => {
    const cat = await freshPostgres('race');
    const [a, b] = await Promise.all(
      [1, 2].map(() => runCli(['--catalogue', cat.location, 'apply', 'examples', '--auto-approve'])),
    );
    const results = [a, b].map((r) =>
      r?.stdout.includes('Apply complete!')
        ? 'applied'
        : r?.stderr.includes('locked') || r?.stdout.includes('No changes')
          ? 'refused'
          : `other: ${r?.stderr}`,
    );
    assert.deepEqual(results.sort(), ['applied', 'refused']);
    assert.deepEqual(await counts(cat.location), { serial: 1, servers: 5, history: 1 });
  });

  test('an apply killed mid-transaction leaves nothing half-applied', async () => {
    const cat = await freshPostgres('killed');
    const blocker = new pg.Client({ connectionString: cat.location });
    await blocker.connect();
    await blocker.query('begin');
    // Reads go through, inserts wait: the apply stops after planning, inside its transaction.
    await blocker.query('lock table pgbackman.pgsql_nodes in share mode');
    const child = spawn(
      process.execPath,
      [
        join(REPO_ROOT, 'bin/pgbackman.js'),
        '--catalogue',
        cat.location,
        'apply',
        'manifests',
        '--auto-approve',
      ],
      { env: { ...process.env, NO_COLOR: '1' } },
    );
    let out = '';
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (chunk) => {
        out += chunk;
        if (out.includes('Plan: 4 to add')) resolve();
      });
    });
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    await blocker.query('rollback');
    await blocker.end();
    assert.deepEqual(await counts(cat.location), { serial: 0, servers: 0, history: 0 });
    const r = await runCli(['--catalogue', cat.location, 'apply', 'manifests', '--auto-approve']);
    assert.equal(r.code, 0, r.stderr);
  });

  test('a read-only role can plan but not apply, and is told why', async () => {
    const cat = await freshPostgres('readonly');
    await withClient(cat.location, async (c) => {
      await c.query('drop role if exists pgbackman_ci');
      await c.query('create role pgbackman_ci login in role pgbackman_ro');
    });
    const asCi = cat.location.replace('postgres@', 'pgbackman_ci@');
    const plan = await runCli(['--catalogue', asCi, 'plan', 'manifests', '--detailed-exitcode']);
    assert.equal(plan.code, 2, plan.stderr);
    const apply = await runCli(['--catalogue', asCi, 'apply', 'manifests', '--auto-approve']);
    assertNoStackTrace(apply);
    assert.equal(apply.code, 1);
    assert.match(
      apply.stderr,
      /error\[CATALOGUE_REFUSED\]: the catalogue refused: permission denied for table \w+ \(the role lacks privileges: apply and agents need pgbackman_rw/,
    );
    assert.deepEqual(await counts(cat.location), { serial: 0, servers: 0, history: 0 });
  });

  test('apply records who applied what, and tells each affected backup server', async () => {
    const cat = await freshPostgres('notify');
    const listener = new pg.Client({ connectionString: cat.location });
    await listener.connect();
    const heard: string[] = [];
    listener.on('notification', (n) => heard.push(`${n.channel}:${n.payload}`));
    await listener.query('listen pgbackman');
    try {
      const r = await runCli([
        '--catalogue',
        cat.location,
        'apply',
        'examples/multi-server',
        '--auto-approve',
      ]);
      assert.equal(r.code, 0, r.stderr);
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.deepEqual(heard.sort(), ['pgbackman:multi-backup-bgo', 'pgbackman:multi-backup-osl']);
    } finally {
      await listener.end();
    }
    const [history] = await withClient(
      cat.location,
      async (c) =>
        (
          await c.query(
            'select serial::int, applied_by, revision, summary, changes from pgbackman.apply_history',
          )
        ).rows,
    );
    assert.equal(history.serial, 1);
    assert.match(history.applied_by, /^.+@.+$/);
    // null only when the tests run outside a git work tree
    if (history.revision !== null) assert.match(history.revision, /^[^@]+@sha1:[0-9a-f]{40}(\+dirty)?$/);
    assert.deepEqual(history.summary, { add: 15, change: 0, destroy: 0 });
    assert.equal(history.changes.length, 15);
  });

  test('objects no manifest created are reported and never deleted', async () => {
    const cat = await freshPostgres('unmanaged');
    await withClient(cat.location, (c) =>
      c.query(
        "insert into pgbackman.backup_servers (name, spec, spec_hash, managed) values ('legacy', '{\"hostname\": \"old\"}', 'x', false)",
      ),
    );
    const dir = await writeTree({ ...BASE, 'a.yaml': definition('shop') });
    const r = await runCli(['--catalogue', cat.location, 'apply', dir, '--auto-approve']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /Note: 1 object in the catalogue is not managed by manifests and left alone: BackupServer\/legacy/,
    );
    const [row] = await withClient(
      cat.location,
      async (c) => (await c.query("select managed from pgbackman.backup_servers where name = 'legacy'")).rows,
    );
    assert.deepEqual(row, { managed: false });
  });

  test('the embedded catalogue is never opened twice: the second process is told who holds it', async () => {
    const cat = await createTestCatalogue('embedded', 'held');
    dropLater.push(cat);
    const holder = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        `
      const { connectEmbedded } = await import(${JSON.stringify(join(REPO_ROOT, 'src/catalogue/connect-embedded.ts'))});
      const db = await connectEmbedded(${JSON.stringify(cat.location)}, 'pgbackman agent (test)');
      console.log('open');
      setTimeout(() => db.close(), 60000);
    `,
      ],
      { cwd: REPO_ROOT },
    );
    await new Promise<void>((resolve) =>
      holder.stdout.on('data', (d) => String(d).includes('open') && resolve()),
    );
    try {
      const r = await runCli(['--catalogue', cat.location, 'plan']);
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        new RegExp(
          `the embedded catalogue .* is in use by pid ${holder.pid} \\(pgbackman agent \\(test\\)\\) since`,
        ),
      );
    } finally {
      holder.kill('SIGKILL');
    }
    // A holder that died leaves a stale lock, which the next command replaces.
    await new Promise((r) => holder.on('exit', r));
    const r = await runCli(['--catalogue', cat.location, 'plan']);
    assert.equal(r.code, 0, r.stderr);
  });
});
