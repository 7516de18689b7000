import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type AgentProcess, startAgent } from '../support/agent-process.ts';
import { createTestRepo, type TestRepo } from '../support/git-repo.ts';
import { runCli } from '../support/run-cli.ts';
import { testServerUrl, withClient, withDatabase } from '../support/test-database.ts';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../support/throwaway-postgres.ts';

const DB = 'fleet_source';
const EVERY_2S = '"*/2 * * * * *"';

/** Two backup servers, one node, a definition on each server. */
function twoServers(rootA: string, rootB: string): string {
  const node = new URL(testServerUrl());
  const docs = [
    `kind: BackupServer\nmetadata: {name: alpha}\nspec: {hostname: alpha, rootDirectory: ${JSON.stringify(rootA)}}`,
    `kind: BackupServer\nmetadata: {name: beta}\nspec: {hostname: beta, rootDirectory: ${JSON.stringify(rootB)}}`,
    `kind: PgSQLNode\nmetadata: {name: n1}\nspec: {host: ${node.hostname}, port: ${node.port}}`,
    `kind: BackupDefinition\nmetadata: {name: on-alpha}\nspec: {server: alpha, node: n1, database: ${DB}, schedule: ${EVERY_2S}}`,
    `kind: BackupDefinition\nmetadata: {name: on-beta}\nspec: {server: beta, node: n1, database: ${DB}, schedule: ${EVERY_2S}}`,
  ];
  return docs.map((d) => `apiVersion: pgbackman.io/v1\n${d}\n`).join('---\n');
}

describe('agents of two servers on one PostgreSQL catalogue', () => {
  let catalogueServer: ThrowawayPostgres;
  let location: string;
  let repo: TestRepo;
  let dir: string;
  const agents: AgentProcess[] = [];
  const cli = (...args: string[]) => runCli(['--catalogue', location, ...args]);
  const runs = async () =>
    JSON.parse((await cli('get', 'backups', '-o', 'json', '--limit', '1000')).stdout) as {
      id: string;
      server: string;
      definition: string;
      status: string;
    }[];
  const start = (server: string) =>
    startAgent([
      '--catalogue',
      location,
      'agent',
      '--server',
      server,
      '--repo',
      repo.url,
      '--state-dir',
      join(dir, `state-${server}`),
      '--interval',
      '2s',
      '--listen',
      '127.0.0.1:0',
    ]);

  before(async () => {
    // The catalogue on a cluster of its own, so it can go down while the node stays up.
    catalogueServer = await startThrowawayPostgres('fleet-catalogue');
    location = catalogueServer.url;
    assert.equal((await runCli(['--catalogue', location, 'catalogue', 'migrate'])).code, 0);
    repo = await createTestRepo();
    dir = await mkdtemp(join(tmpdir(), 'pgbackman-fleet-'));
    await withClient(testServerUrl(), async (c) => {
      await c.query(`drop database if exists ${DB} with (force)`);
      await c.query(`create database ${DB}`);
    });
    await withClient(withDatabase(testServerUrl(), DB), (c) => c.query('create table t (x int)'));
  });
  after(async () => {
    for (const a of agents) a.signal('SIGKILL');
    await catalogueServer?.stop();
    await repo?.remove();
    await rm(dir, { recursive: true, force: true });
  });

  test("each agent runs only its own server's dumps, and a revision is applied once", async () => {
    const sha = await repo.push({ 'setup.yaml': twoServers(join(dir, 'root-a'), join(dir, 'root-b')) });
    agents.push(start('alpha'), start('beta'));
    for (const [a, name] of [
      [agents[0], 'on-alpha'],
      [agents[1], 'on-beta'],
    ] as const)
      await a?.waitFor(
        (l) => l.event === 'run_finished' && l.definition === `BackupDefinition/${name}`,
        20_000,
      );
    const all = await runs();
    assert.ok(all.every((r) => (r.server === 'alpha') === (r.definition === 'on-alpha')));
    for (const a of agents)
      assert.ok(
        !a.lines.some((l) => l.event === 'run_started' && !String(l.definition).endsWith(String(l.server))),
      );
    const history = await withClient(location, (c) =>
      c.query('select count(*)::int as n from pgbackman.apply_history where revision = $1', [
        `main@sha1:${sha}`,
      ]),
    );
    assert.equal(history.rows[0].n, 1, 'applied once, by whichever agent came first');
    const listed = JSON.parse((await cli('get', 'agents', '-o', 'json')).stdout) as {
      server: string;
      state: string;
    }[];
    assert.deepEqual(
      listed.map((a) => `${a.server}:${a.state}`),
      ['alpha:Ready', 'beta:Ready'],
    );
  });

  test('a second agent of the same server on the same host refuses to start; the first goes on', async () => {
    const twin = startAgent([
      '--catalogue',
      location,
      'agent',
      '--server',
      'alpha',
      '--repo',
      repo.url,
      '--state-dir',
      join(dir, 'state-alpha-twin'),
      '--listen',
      'none',
    ]);
    assert.equal(await twin.exited, 1);
    assert.match(
      twin.stderr(),
      /error\[AGENT_RUNNING\]: an agent of BackupServer\/alpha already runs on .+ \(pid \d+, last heartbeat \d+ s ago\): two agents of one server would take every dump twice; stop it first/,
    );
    assert.ok(!twin.lines.some((l) => l.event === 'run_started'), 'the twin started no dump');
    const from = agents[0]?.lines.length ?? 0;
    await agents[0]?.waitFor((l) => l.event === 'run_finished', 20_000, from);
  });

  test('the catalogue goes down while dumps run: they go on, and their records arrive when it returns', async () => {
    const before = (await runs()).length;
    await catalogueServer.pause();
    const from = agents.map((a) => a.lines.length);
    // Dumps taken while the catalogue is down are spooled.
    for (const [i, a] of agents.entries()) {
      await a.waitFor((l) => l.event === 'run_spooled', 20_000, from[i]);
      await a.waitFor((l) => l.event === 'run_finished' && l.status === 'SUCCEEDED', 20_000, from[i]);
    }
    const spooledIds = new Set(
      agents.flatMap((a, i) =>
        a.lines
          .slice(from[i])
          .filter((l) => l.event === 'run_finished' && l.status === 'SUCCEEDED')
          .map((l) => l.run),
      ),
    );
    await catalogueServer.resume();
    for (const [i, a] of agents.entries())
      await a.waitFor((l) => l.event === 'spool_replayed', 30_000, from[i]);
    const records = await runs();
    for (const id of spooledIds)
      assert.equal(records.find((r) => r.id === id)?.status, 'SUCCEEDED', `run ${id} reached the catalogue`);
    assert.ok(records.length > before);
  });

  test('the catalogue hangs (its processes stopped, connections open): dumps still start and finish, spooled after 10 s, and arrive when it answers again', async () => {
    const alpha = agents[0] as AgentProcess;
    const from = alpha.lines.length;
    // A run may have started just before the freeze: it is the one that meets the hang (one run at a time).
    const lastFinished = alpha.lines.findLastIndex((l) => l.event === 'run_finished');
    const since = Math.min(from, lastFinished + 1);
    await catalogueServer.freeze();
    let spooled: string;
    try {
      // The first run whose record meets the hang is spooled (one that finished just before the freeze was
      // recorded as usual): found by its spool line, then its own start and finish.
      const spooledLine = await alpha.waitFor((l) => l.event === 'run_spooled', 40_000, since);
      const finished = await alpha.waitFor(
        (l) => l.event === 'run_finished' && l.run === spooledLine.run,
        30_000,
        since,
      );
      assert.equal(finished.status, 'SUCCEEDED');
      const at = alpha.lines.indexOf(finished);
      const started = alpha.lines
        .slice(0, at)
        .findLast((l) => l.event === 'run_started' && l.definition === finished.definition);
      assert.ok(started !== undefined, 'its start was logged');
      // Not the 30 s of a connect nor the 5 min of a statement: the record's own bound, then the spool.
      const waited = Date.parse(String(finished.time)) - Date.parse(String(started.time));
      assert.ok(waited < 15_000, `the run took ${waited} ms while the catalogue hung`);
      spooled = String(finished.run);
    } finally {
      await catalogueServer.thaw();
    }
    await alpha.waitFor((l) => l.event === 'spool_replayed', 30_000, from);
    assert.equal((await runs()).find((r) => r.id === spooled)?.status, 'SUCCEEDED');
  });

  test('an agent that was down records the runs it missed as MISSED', async () => {
    const beta = agents[1] as AgentProcess;
    beta.signal('SIGTERM');
    assert.equal(await beta.exited, 0, beta.stderr());
    await sleep(5_000);
    const again = start('beta');
    agents[1] = again;
    await again.waitFor((l) => l.event === 'runs_missed');
    const missed = (await runs()).filter((r) => r.status === 'MISSED');
    assert.equal(missed.length, 1);
    const described = await cli('describe', 'backup', (missed[0] as { id: string }).id);
    assert.match(described.stdout, /missed:\n(\s+- "?\d{4}-.+\n){2,}/);
  });

  test('an agent restarted while the catalogue is down runs the schedule it cached, and its records arrive later', async () => {
    const alpha = agents[0] as AgentProcess;
    alpha.signal('SIGTERM');
    assert.equal(await alpha.exited, 0, alpha.stderr());
    await catalogueServer.pause();
    const again = start('alpha');
    agents[0] = again;
    try {
      await again.waitFor((l) => l.event === 'schedule_from_cache');
      const done = await again.waitFor(
        (l) =>
          l.event === 'run_finished' &&
          l.status === 'SUCCEEDED' &&
          l.definition === 'BackupDefinition/on-alpha',
      );
      assert.ok(again.lines.some((l) => l.event === 'run_spooled'));
      const base = `http://${(await again.waitFor((l) => l.event === 'listening')).address}`;
      // Ready once its source is fetched too (which may come after the first dump), the catalogue still down.
      let ready = await fetch(`${base}/readyz`);
      let body = (await ready.json()) as { checks: { catalogue: { mode: string } } };
      for (let i = 0; i < 100 && ready.status !== 200; i++) {
        await sleep(100);
        ready = await fetch(`${base}/readyz`);
        body = (await ready.json()) as typeof body;
      }
      const checks = body.checks;
      assert.equal(
        ready.status,
        200,
        `ready: dumps go on while records are spooled: ${JSON.stringify(body)}`,
      );
      assert.equal(checks.catalogue.mode, 'spooling');
      const metrics = await (await fetch(`${base}/metrics`)).text();
      assert.match(metrics, /^pgbackman_catalogue_up 0$/m);
      assert.match(metrics, /^pgbackman_spool_records [1-9]/m);
      await catalogueServer.resume();
      await again.waitFor((l) => l.event === 'spool_replayed', 30_000);
      const record = (await runs()).find((r) => r.id === done.run);
      assert.equal(record?.status, 'SUCCEEDED');
    } finally {
      await catalogueServer.resume().catch(() => undefined);
    }
  });

  test('SIGTERM while the catalogue hangs: both agents exit 0 within 30 s instead of waiting for it', async () => {
    await Promise.all(agents.map((a) => a.waitFor((l) => l.event === 'reconciled', 30_000)));
    await catalogueServer.freeze();
    try {
      // Their links and LISTEN connections are open on a server that no longer answers.
      await sleep(3_000);
      const asked = Date.now();
      for (const a of agents) a.signal('SIGTERM');
      for (const a of agents) assert.equal(await a.exited, 0, a.stderr());
      const took = Date.now() - asked;
      assert.ok(took < 30_000, `the agents took ${took} ms to stop`);
      for (const a of agents) assert.ok(a.lines.some((l) => l.event === 'agent_stopped'));
    } finally {
      await catalogueServer.thaw();
    }
  });
});
