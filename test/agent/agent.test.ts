import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { type AgentProcess, startAgent } from '../support/agent-process.ts';
import { createTestCatalogue, type TestCatalogue } from '../support/catalogues.ts';
import { localSetup } from '../support/fixtures.ts';
import { createTestRepo, type TestRepo } from '../support/git-repo.ts';
import { METRIC_TYPES } from '../support/metric-names.ts';
import { parsePromText, samplesOf } from '../support/prom-text.ts';
import { assertNoStackTrace, runCli, writeTree } from '../support/run-cli.ts';
import { testServerUrl, withClient, withDatabase } from '../support/test-database.ts';

const DB = 'agent_source';
const EVERY_2S = '"*/2 * * * * *"';

interface Run {
  id: string;
  status: string;
  definition: string | null;
  revision: string | null;
  error: string | null;
  dumpPath: string | null;
}

describe('pgbackman agent on a git repository (PostgreSQL catalogue)', () => {
  let catalogue: TestCatalogue;
  let repo: TestRepo;
  let root: string;
  let state: string;
  let agent: AgentProcess | undefined;
  const node = new URL(testServerUrl());
  const manifests = (definitions: Record<string, string>) =>
    localSetup({ root, host: node.hostname, port: node.port, definitions });
  const cli = (...args: string[]) => runCli(['--catalogue', catalogue.location, ...args]);
  const runs = async (): Promise<Run[]> => {
    const r = await cli('get', 'backups', '-o', 'json', '--limit', '1000');
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as Run[];
  };
  // A dump waits on this lock for as long as a test wants; always released, or other files' CLUSTER dumps wait too.
  let blocker: pg.Client | undefined;
  const lockTable = async () => {
    blocker = new pg.Client({ connectionString: withDatabase(testServerUrl(), DB) });
    await blocker.connect();
    // Bounded: a lock that cannot be had (a dump of another file holding t) fails the test, not the run.
    await blocker.query("set lock_timeout = '30s'");
    await blocker.query('begin');
    await blocker.query('lock table t in access exclusive mode');
  };
  const unlockTable = async () => {
    const held = blocker;
    blocker = undefined;
    await held?.query('rollback').catch(() => undefined);
    await held?.end().catch(() => undefined);
  };
  afterEach(unlockTable);
  const agents = async () => JSON.parse((await cli('get', 'agents', '-o', 'json')).stdout);
  const finished = (status: string, definition?: string) => (l: Record<string, unknown>) =>
    l.event === 'run_finished' &&
    l.status === status &&
    (definition === undefined || l.definition === `BackupDefinition/${definition}`);
  const start = (...extra: string[]) =>
    startAgent([
      '--catalogue',
      catalogue.location,
      'agent',
      '--server',
      'local',
      '--repo',
      repo.url,
      '--path',
      'manifests',
      '--state-dir',
      state,
      '--interval',
      '2s',
      '--listen',
      '127.0.0.1:0',
      ...extra,
    ]);

  before(async () => {
    catalogue = await createTestCatalogue('postgres', 'agent');
    repo = await createTestRepo();
    root = await mkdtemp(join(tmpdir(), 'pgbackman-agent-root-'));
    state = await mkdtemp(join(tmpdir(), 'pgbackman-agent-state-'));
    await withClient(testServerUrl(), async (c) => {
      await c.query(`drop database if exists ${DB} with (force)`);
      await c.query(`create database ${DB}`);
    });
    await withClient(withDatabase(testServerUrl(), DB), (c) =>
      c.query('create table t as select g from generate_series(1, 1000) g'),
    );
  });
  after(async () => {
    agent?.signal('SIGKILL');
    await catalogue?.drop();
    await repo?.remove();
    await rm(root, { recursive: true, force: true });
    await rm(state, { recursive: true, force: true });
  });

  test('a pushed definition is applied, scheduled and dumped on time, each run catalogued with its revision', async () => {
    const sha = await repo.push(
      { 'manifests/setup.yaml': manifests({ often: `database: ${DB}, schedule: ${EVERY_2S}` }) },
      'back up the often database',
    );
    agent = start();
    await agent.waitFor((l) => l.event === 'reconciled' && l.outcome === 'applied');
    await agent.waitFor(finished('SUCCEEDED', 'often'));
    const first = agent.lines.findIndex(finished('SUCCEEDED', 'often'));
    await agent.waitFor(finished('SUCCEEDED', 'often'), 10_000, first + 1);
    const done = (await runs()).filter((r) => r.status === 'SUCCEEDED');
    assert.ok(done.length >= 2, `two dumps or more, got ${done.length}`);
    for (const r of done) assert.equal(r.revision, `main@sha1:${sha}`);
    const [me] = await agents();
    assert.equal(me.server, 'local');
    assert.equal(me.state, 'Ready');
    assert.equal(me.lastAppliedRevision, `main@sha1:${sha}`);
    assert.deepEqual(
      me.conditions.map((c: { type: string; status: string }) => `${c.type}=${c.status}`),
      ['Ready=True', 'Reconciling=False', 'Stalled=False'],
    );
    const described = await cli('describe', 'definition/often');
    assert.match(described.stdout, new RegExp(`revision: main@sha1:${sha}`));
    // The agent's apply is in the history with the commit it came from.
    const [applied] = JSON.parse((await cli('history', '-o', 'json')).stdout);
    assert.deepEqual(
      [applied.revision, applied.commit, applied.appliedBy.startsWith('agent local@')],
      [
        `main@sha1:${sha}`,
        { author: 'test <test@example.com>', subject: 'back up the often database' },
        true,
      ],
    );
  });

  test('it serves /healthz, /readyz and /metrics: the dumps, the reconcile and the revision, as Prometheus text', async () => {
    const listening = await agent?.waitFor((l) => l.event === 'listening');
    const base = `http://${listening?.address}`;
    assert.equal(await (await fetch(`${base}/healthz`)).text(), 'ok\n');
    const ready = await fetch(`${base}/readyz`);
    assert.equal(ready.status, 200);
    const body = (await ready.json()) as { ready: boolean; checks: Record<string, { ready: boolean }> };
    assert.equal(body.ready, true);
    assert.deepEqual(Object.keys(body.checks).sort(), ['catalogue', 'schedule', 'source']);
    const families = parsePromText(await (await fetch(`${base}/metrics`)).text());
    for (const [name, type] of Object.entries(METRIC_TYPES))
      assert.equal(families.get(name)?.type, type, name);
    const [last] = samplesOf(families, 'pgbackman_backup_last_success_timestamp_seconds', {
      definition: 'often',
      node: 'n1',
      database: DB,
    });
    assert.ok(last !== undefined && Math.abs(last.value - Date.now() / 1000) < 60, 'a recent success');
    assert.ok((samplesOf(families, 'pgbackman_backup_bytes', { definition: 'often' })[0]?.value ?? 0) > 0);
    assert.equal(
      samplesOf(families, 'pgbackman_reconcile_condition', { type: 'Ready', status: 'True' })[0]?.value,
      1,
    );
    assert.equal(samplesOf(families, 'pgbackman_catalogue_up')[0]?.value, 1);
    const revision = samplesOf(families, 'pgbackman_source_revision_info');
    assert.equal(revision.length, 1);
    assert.match(revision[0]?.labels.revision ?? '', /^main@sha1:[0-9a-f]{40}$/);
    assert.ok(families.has('process_resident_memory_bytes'), "Node's default metrics");
    const status = await cli('status', '--server', 'local');
    assert.equal(status.code, 0, status.stdout + status.stderr);
    assert.match(status.stdout, /^OK +often +local/m);
  });

  test('an invalid commit changes nothing: dumps go on and get agents quotes the error at file:line:col', async () => {
    const goodSha = (await agents())[0].lastAppliedRevision;
    const from = agent?.lines.length ?? 0;
    await repo.push({
      'manifests/setup.yaml': manifests({
        often: `database: ${DB}, schedule: ${EVERY_2S}`,
        broken: `database: ${DB}, schedul: "0 1 * * *"`,
      }),
    });
    await agent?.waitFor((l) => l.event === 'reconciled' && l.reason === 'ValidationFailed', 20_000, from);
    const [me] = await agents();
    const ready = me.conditions.find((c: { type: string }) => c.type === 'Ready');
    assert.equal(ready.status, 'False');
    assert.equal(ready.reason, 'ValidationFailed');
    assert.match(
      ready.message,
      /manifests\/setup\.yaml:\d+:\d+: error: BackupDefinition\/broken: \/spec\/schedul/,
    );
    assert.equal(me.lastAppliedRevision, goodSha, 'the last good revision is kept');
    assert.equal(me.state, 'Stalled');
    const notApplied = await cli('get', 'definitions', '-o', 'json');
    assert.ok(!notApplied.stdout.includes('"broken"'), 'nothing of the invalid revision was applied');
    const after = agent?.lines.length ?? 0;
    await agent?.waitFor(finished('SUCCEEDED', 'often'), 10_000, after);
  });

  test('a fix is applied at once on `pgbackman reconcile`, which prints the new revision', async () => {
    const sha = await repo.push({
      'manifests/setup.yaml': manifests({
        often: `database: ${DB}, schedule: ${EVERY_2S}`,
        second: `database: ${DB}, schedule: "0 3 * * *"`,
      }),
    });
    const r = await cli('reconcile', '--server', 'local', '--timeout', '30s');
    assertNoStackTrace(r);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`✔ local@.+: Applied revision: main@sha1:${sha}`));
    const [me] = await agents();
    assert.equal(me.state, 'Ready');
    const defs = JSON.parse((await cli('get', 'definitions', '-o', 'json')).stdout);
    assert.ok(defs.some((d: { name: string }) => d.name === 'second'));
  });

  test('an apply by hand of other manifests is undone at the next interval: the agent keeps to its revision', async () => {
    const byHand = await writeTree({
      'setup.yaml': manifests({ often: `database: ${DB}, schedule: ${EVERY_2S}` }),
    });
    const from = agent?.lines.length ?? 0;
    const r = await cli('apply', byHand, '--auto-approve');
    assert.equal(r.code, 0, r.stderr);
    await rm(byHand, { recursive: true, force: true });
    const defs = async () =>
      (JSON.parse((await cli('get', 'definitions', '-o', 'json')).stdout) as { name: string }[]).map(
        (d) => d.name,
      );
    // The revision did not move, the catalogue's serial did: the agent applies its revision again.
    await agent?.waitFor((l) => l.event === 'reconciled' && l.outcome === 'applied', 10_000, from);
    assert.deepEqual(await defs(), ['often', 'second']);
    // The hand apply did delete it (the agent may undo that before anyone looks): the history shows both.
    const history = await withClient(
      catalogue.location,
      async (c) =>
        (
          await c.query(
            'select applied_by, changes from pgbackman.apply_history order by serial desc limit 2',
          )
        ).rows,
    );
    assert.doesNotMatch(String(history[1]?.applied_by), /^agent /);
    assert.match(String(history[0]?.applied_by), /^agent local@/);
  });

  test('SIGTERM during a dump: the dump finishes within the grace, is recorded, and the agent exits 0', async () => {
    const from = agent?.lines.length ?? 0;
    await lockTable();
    // A run that is due while the last one waits on the lock is skipped: the dump is in progress.
    const started = await agent?.waitFor((l) => l.event === 'run_skipped', 10_000, from);
    const address = agent?.lines.find((l) => l.event === 'listening')?.address as string;
    const metrics = parsePromText(await (await fetch(`http://${address}/metrics`)).text());
    const [skipped] = samplesOf(metrics, 'pgbackman_backup_skipped_total', { definition: 'often' });
    assert.ok((skipped?.value ?? 0) >= 1, 'the skipped run is counted');
    agent?.signal('SIGTERM');
    await agent?.waitFor((l) => l.event === 'agent_draining', 10_000, from);
    await unlockTable();
    assert.equal(await agent?.exited, 0, agent?.stderr());
    const last = agent?.lines.find((l, i) => i > from && l.event === 'run_finished');
    assert.equal(last?.status, 'SUCCEEDED', JSON.stringify(last));
    assert.equal(started?.definition, 'BackupDefinition/often');
    const mine = (await runs()).find((r) => r.id === last?.run);
    assert.equal(mine?.status, 'SUCCEEDED');
    assert.equal((await runs()).filter((r) => r.status === 'RUNNING').length, 0);
    // Its last heartbeat says it stopped: not Ready, and not Stale as a crashed agent would be.
    const [me] = await agents();
    assert.deepEqual(
      me.conditions.map(
        (c: { type: string; status: string; reason: string }) => `${c.type}=${c.status}/${c.reason}`,
      ),
      ['Ready=False/Stopped', 'Reconciling=False/Succeeded', 'Stalled=False/Succeeded'],
    );
    assert.equal(me.state, 'Stopped');
    agent = undefined;
  });

  test('SIGKILL mid-dump: the restarted agent records the run FAILED and leaves no partial file', async () => {
    await lockTable();
    agent = start();
    const started = await agent.waitFor((l) => l.event === 'run_started');
    let runningBefore: Run[] = [];
    // The start is recorded just after it is logged: asked until it shows.
    for (let i = 0; i < 50 && runningBefore.length === 0; i++) {
      runningBefore = (await runs()).filter((r) => r.status === 'RUNNING');
      if (runningBefore.length === 0) await sleep(100);
    }
    assert.equal(runningBefore.length, 1, 'the run is recorded RUNNING while it waits');
    agent.signal('SIGKILL');
    await agent.exited;
    await unlockTable();
    agent = start();
    await agent.waitFor((l) => l.event === 'run_interrupted');
    const killed = (await runs()).find((r) => r.id === runningBefore[0]?.id);
    assert.equal(killed?.status, 'FAILED');
    assert.match(killed?.error ?? '', /interrupted/);
    // The restarted agent's own next dump may be in progress: only the killed run's files must be gone.
    const killedId = (runningBefore[0]?.id ?? '').slice(0, 8);
    const partials = readdirSync(join(root, 'n1', DB)).filter((p) => p.includes(killedId));
    assert.deepEqual(partials, [], `no files of the killed run ${killedId} left (${started.definition})`);
  });

  test('SIGTERM whose grace runs out: the dump is stopped and recorded FAILED, the agent still exits 0', async () => {
    agent?.signal('SIGKILL');
    await agent?.exited;
    await lockTable();
    agent = start('--grace', '1s');
    await agent.waitFor((l) => l.event === 'run_started');
    agent.signal('SIGTERM');
    assert.equal(await agent.exited, 0, agent.stderr());
    await unlockTable();
    const failed = agent.lines.find((l) => l.event === 'run_finished');
    assert.equal(failed?.status, 'FAILED');
    const record = (await runs()).find((r) => r.id === failed?.run);
    assert.equal(record?.status, 'FAILED');
    assert.match(record?.error ?? '', /shutdown \(SIGTERM; its grace ran out\)/);
    assert.equal((await runs()).filter((r) => r.status === 'RUNNING').length, 0);
    agent = undefined;
  });

  test('a second SIGTERM interrupts at once: the dump is recorded FAILED and the agent exits 0', async () => {
    agent?.signal('SIGKILL');
    await agent?.exited;
    await lockTable();
    agent = start('--grace', '10m');
    await agent.waitFor((l) => l.event === 'run_started');
    agent.signal('SIGTERM');
    await agent.waitFor((l) => l.event === 'agent_draining');
    const at = Date.now();
    agent.signal('SIGTERM');
    assert.equal(await agent.exited, 0, agent.stderr());
    assert.ok(Date.now() - at < 10_000, 'it did not wait for the grace');
    const failed = agent.lines.find((l) => l.event === 'run_finished');
    assert.equal(failed?.status, 'FAILED');
    const record = (await runs()).find((r) => r.id === failed?.run);
    assert.match(record?.error ?? '', /interrupted by the agent's shutdown \(SIGTERM\)/);
    agent = undefined;
  });
});
