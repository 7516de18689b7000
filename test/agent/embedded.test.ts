import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type AgentProcess, startAgent } from '../support/agent-process.ts';
import { createTestCatalogue, type TestCatalogue } from '../support/catalogues.ts';
import { localSetup } from '../support/fixtures.ts';
import { assertNoStackTrace, runCli } from '../support/run-cli.ts';
import { testServerUrl, withClient, withDatabase } from '../support/test-database.ts';

const DB = 'agent_embedded_source';

/** The embedded default, held by the agent for as long as it runs: every other command must still work. */
describe('pgbackman agent on the embedded catalogue', () => {
  let catalogue: TestCatalogue;
  let dir: string;
  let watched: string;
  let agent: AgentProcess | undefined;
  const node = new URL(testServerUrl());
  const manifests = (definitions: Record<string, string>) =>
    localSetup({ root: join(dir, 'root'), host: node.hostname, port: node.port, definitions });
  const cli = (...args: string[]) => runCli(['--catalogue', catalogue.location, ...args]);

  before(async () => {
    catalogue = await createTestCatalogue('embedded', 'agent');
    dir = await mkdtemp(join(tmpdir(), 'pgbackman-agent-embedded-'));
    watched = join(dir, 'manifests');
    await mkdir(watched);
    await withClient(testServerUrl(), async (c) => {
      await c.query(`drop database if exists ${DB} with (force)`);
      await c.query(`create database ${DB}`);
    });
    await withClient(withDatabase(testServerUrl(), DB), (c) => c.query('create table t (x int)'));
  });
  after(async () => {
    agent?.signal('SIGKILL');
    await catalogue?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  test('get, describe, plan, run, apply and reconcile work from other processes while the agent holds it', async () => {
    const watchedSet = {
      often: `database: ${DB}, schedule: "*/2 * * * * *"`,
      manual: `database: ${DB}, schedule: "0 3 * * *"`,
    };
    await writeFile(join(watched, 'setup.yaml'), manifests(watchedSet));
    agent = startAgent([
      '--catalogue',
      catalogue.location,
      'agent',
      '--server',
      'local',
      '--watch',
      watched,
      '--state-dir',
      join(dir, 'state'),
      '--listen',
      'none',
    ]);
    await agent.waitFor((l) => l.event === 'catalogue_served');
    await agent.waitFor((l) => l.event === 'run_finished' && l.status === 'SUCCEEDED', 60_000);
    // Two at once, while the agent records its own runs.
    const [backups, definitions] = await Promise.all([
      cli('get', 'backups', '-o', 'json'),
      cli('get', 'definitions', '-o', 'json'),
    ]);
    for (const r of [backups, definitions]) {
      assertNoStackTrace(r);
      assert.equal(r.code, 0, r.stderr);
    }
    const runs = JSON.parse(backups.stdout) as { status: string; revision: string }[];
    assert.ok(runs.some((r) => r.status === 'SUCCEEDED' && /^sha256:[0-9a-f]{64}$/.test(r.revision)));
    assert.equal((await cli('describe', 'definition/often')).code, 0);
    const plan = await cli('plan', watched);
    assert.equal(plan.code, 0, plan.stderr);
    assert.match(plan.stdout, /No changes/);
    // A one-shot run records through the agent's socket (not `often`, whose run lock the agent may hold).
    const run = await cli('run', 'manual');
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /SUCCEEDED/);
    assert.doesNotMatch(run.stderr, /spool/);
    // An apply from the CLI reschedules the agent at once (the embedded catalogue is polled for its serial).
    const other = join(dir, 'other');
    await mkdir(other);
    await writeFile(
      join(other, 'setup.yaml'),
      manifests({ ...watchedSet, nightly: `database: ${DB}, schedule: "0 3 * * *"` }),
    );
    const from = agent.lines.length;
    const applied = await cli('apply', other, '--auto-approve');
    assert.equal(applied.code, 0, applied.stderr);
    const rescheduled = await agent.waitFor((l) => l.event === 'scheduled' && l.entries === 3, 10_000, from);
    assert.equal(rescheduled.added, 1);
    // reconcile goes back to what the watched directory says (the agent's source), and waits for it.
    const reconciled = await cli('reconcile', '--timeout', '30s');
    assert.equal(reconciled.code, 0, reconciled.stdout + reconciled.stderr);
    assert.match(reconciled.stdout, /✔ local@.+: Applied revision: sha256:/);
    const defs = JSON.parse((await cli('get', 'definitions', '-o', 'json')).stdout) as { name: string }[];
    assert.deepEqual(defs.map((d) => d.name).sort(), ['manual', 'often']);
  });

  test('SIGTERM releases the catalogue: the next command opens it itself and sees everything the agent recorded', async () => {
    agent?.signal('SIGTERM');
    assert.equal(await agent?.exited, 0, agent?.stderr());
    assert.ok(!existsSync(`${catalogue.location}.sock`), 'the socket directory is gone');
    assert.ok(!existsSync(`${catalogue.location}.lock`), 'the lock is released');
    const recorded = agent?.lines.filter((l) => l.event === 'run_finished').map((l) => l.run) ?? [];
    const r = await cli('get', 'backups', '-o', 'json', '--limit', '1000');
    assert.equal(r.code, 0, r.stderr);
    const ids = new Set((JSON.parse(r.stdout) as { id: string }[]).map((b) => b.id));
    for (const id of recorded) assert.ok(ids.has(String(id)), `run ${id} is in the catalogue`);
    assert.equal(
      (JSON.parse(r.stdout) as { status: string }[]).filter((b) => b.status === 'RUNNING').length,
      0,
    );
    agent = undefined;
  });
});
