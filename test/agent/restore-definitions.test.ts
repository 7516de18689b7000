import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type AgentProcess, startAgent } from '../support/agent-process.ts';
import { createTestCatalogue, type TestCatalogue } from '../support/catalogues.ts';
import { localSetup } from '../support/fixtures.ts';
import { parsePromText, samplesOf } from '../support/prom-text.ts';
import { runCli } from '../support/run-cli.ts';
import { createSourceDatabase, testServerUrl, withClient, withDatabase } from '../support/test-database.ts';

const SOURCE = 'agent_restore_src';
const COPY = 'agent_restore_copy';
const LATER = 'agent_restore_later';
const TAKEN = 'agent_restore_taken';
const SEALED = 'agent_restore_sealed';

const restoreDefinition = (name: string, spec: string) =>
  `---\napiVersion: pgbackman.io/v1\nkind: RestoreDefinition\nmetadata: {name: ${name}}\nspec: {source: {definition: nightly}, ${spec}}\n`;

describe('the agent restores its RestoreDefinitions', () => {
  let catalogue: TestCatalogue;
  let dir: string;
  let agent: AgentProcess | undefined;
  const node = new URL(testServerUrl());
  const manifests = () => join(dir, 'manifests');
  const cli = (...args: string[]) => runCli(['--catalogue', catalogue.location, ...args]);
  const restoreRuns = async (definition: string) =>
    withClient(
      catalogue.location,
      async (c) =>
        (
          await c.query(
            'select status, error, target_database, started_at from pgbackman.restore_runs where restore_definition = $1',
            [definition],
          )
        ).rows as { status: string; error: string | null; target_database: string; started_at: Date }[],
    );
  const writeSetup = (extra = '', nightly = '') =>
    writeFile(
      join(manifests(), 'setup.yaml'),
      localSetup({
        root: join(dir, 'root'),
        host: node.hostname,
        port: node.port,
        definitions: { nightly: `database: ${SOURCE}, schedule: "0 3 * * *"${nightly}` },
      }) + extra,
    );
  const start = (...extra: string[]) => startWith({}, ...extra);
  const startWith = (env: NodeJS.ProcessEnv, ...extra: string[]) =>
    startAgent(
      [
        '--catalogue',
        catalogue.location,
        'agent',
        '--server',
        'local',
        '--watch',
        manifests(),
        '--state-dir',
        join(dir, 'state'),
        '--interval',
        '2s',
        '--listen',
        '127.0.0.1:0',
        ...extra,
      ],
      env,
    );

  before(async () => {
    catalogue = await createTestCatalogue('postgres', 'agent-restore');
    dir = await mkdtemp(join(tmpdir(), 'pgbackman-agent-restore-'));
    await createSourceDatabase(SOURCE, 'create table t as select g from generate_series(1, 500) g');
    await withClient(testServerUrl(), async (c) => {
      for (const db of [COPY, LATER, TAKEN, SEALED])
        await c.query(`drop database if exists ${db} with (force)`);
      await c.query(`create database ${TAKEN}`);
    });
    await mkdir(manifests(), { recursive: true });
    await writeSetup();
  });
  after(async () => {
    agent?.signal('SIGKILL');
    await withClient(testServerUrl(), async (c) => {
      for (const db of [COPY, LATER, TAKEN, SEALED])
        await c.query(`drop database if exists ${db} with (force)`);
    });
    await catalogue?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  test('an applied RestoreDefinition restores the newest dump once; one due later waits for its time; a refusal is recorded once', async () => {
    agent = start();
    await agent.waitFor((l) => l.event === 'scheduled');
    const dumped = await cli('run', 'nightly');
    assert.equal(dumped.code, 0, dumped.stderr);
    const backupId = /Backup ([0-9a-f-]{36}) SUCCEEDED/.exec(dumped.stdout)?.[1];

    const at = new Date(Date.now() + 6_000);
    const from = agent.lines.length;
    await writeSetup(
      restoreDefinition('copy', `target: {node: n1, database: ${COPY}}`) +
        restoreDefinition('later', `target: {node: n1, database: ${LATER}}, at: "${at.toISOString()}"`) +
        restoreDefinition('taken', `target: {node: n1, database: ${TAKEN}}`),
    );
    const copied = await agent.waitFor(
      (l) => l.event === 'restore_finished' && l.restoreDefinition === 'RestoreDefinition/copy',
      30_000,
      from,
    );
    assert.equal(copied.status, 'SUCCEEDED', JSON.stringify(copied));
    const rows = await withClient(
      withDatabase(testServerUrl(), COPY),
      async (c) => (await c.query('select count(*)::int as n from t')).rows[0],
    );
    assert.equal(rows.n, 500);

    const refused = await agent.waitFor(
      (l) => l.event === 'restore_finished' && l.restoreDefinition === 'RestoreDefinition/taken',
      30_000,
      from,
    );
    assert.equal(refused.status, 'FAILED');
    assert.match(
      String(refused.error),
      /database "agent_restore_taken" exists on the target; nothing was touched \(existing: rename or drop/,
    );

    const later = await agent.waitFor(
      (l) => l.event === 'restore_finished' && l.restoreDefinition === 'RestoreDefinition/later',
      30_000,
      from,
    );
    assert.equal(later.status, 'SUCCEEDED');
    const [laterRun] = await restoreRuns('later');
    assert.ok(
      laterRun !== undefined && laterRun.started_at.getTime() >= at.getTime() - 5,
      'not before its time',
    );

    // Later reconciles and refreshes do not run a generation again, whatever its outcome.
    await writeSetup(
      restoreDefinition('copy', `target: {node: n1, database: ${COPY}}`) +
        restoreDefinition('later', `target: {node: n1, database: ${LATER}}, at: "${at.toISOString()}"`) +
        restoreDefinition('taken', `target: {node: n1, database: ${TAKEN}}`) +
        `---\napiVersion: pgbackman.io/v1\nkind: BackupDefinition\nmetadata: {name: other}\nspec: {server: local, node: n1, database: ${SOURCE}, schedule: "0 4 * * *"}\n`,
    );
    const mark = agent.lines.length;
    await agent.waitFor((l) => l.event === 'scheduled' && (l.added as number) === 1, 30_000, mark);
    await new Promise((r) => setTimeout(r, 1_500));
    assert.equal((await restoreRuns('copy')).length, 1);
    assert.equal((await restoreRuns('taken')).length, 1);

    const restores = JSON.parse((await cli('get', 'restores', '-o', 'json')).stdout) as Record<
      string,
      unknown
    >[];
    const copy = restores.find((r) => r.restoreDefinition === 'copy');
    assert.equal(copy?.backupId, backupId);
    assert.equal(copy?.status, 'SUCCEEDED');
    const address = (await agent.waitFor((l) => l.event === 'listening')).address as string;
    const metrics = parsePromText(await (await fetch(`http://${address}/metrics`)).text());
    assert.equal(samplesOf(metrics, 'pgbackman_restores_total', { status: 'SUCCEEDED' })[0]?.value, 2);
    assert.equal(samplesOf(metrics, 'pgbackman_restores_total', { status: 'FAILED' })[0]?.value, 1);
    agent.signal('SIGTERM');
    assert.equal(await agent.exited, 0, agent.stderr());
    agent = undefined;
  });

  test('spec.verify: the newest dump is restored into a scratch database and checked on its cadence; the probe only when allowed', async () => {
    await writeSetup('', ', verify: {every: 1h, node: n1, probe: "select count(*) = 500 from t"}');
    agent = start();
    const skipped = await agent.waitFor((l) => l.event === 'verify_probe_skipped', 30_000);
    assert.match(String(skipped.msg), /not started with --allow-verify-probes/);
    const first = await agent.waitFor((l) => l.event === 'verify_finished', 30_000);
    assert.equal(first.status, 'VERIFIED', JSON.stringify(first));
    agent.signal('SIGTERM');
    assert.equal(await agent.exited, 0, agent.stderr());

    // Within `every` of the last test nothing runs again; a new dump does not change that.
    agent = start('--allow-verify-probes');
    await agent.waitFor((l) => l.event === 'scheduled');
    const address = (await agent.waitFor((l) => l.event === 'listening')).address as string;
    await new Promise((r) => setTimeout(r, 1_500));
    assert.equal(agent.lines.filter((l) => l.event === 'verify_started').length, 0);
    const metrics = parsePromText(await (await fetch(`http://${address}/metrics`)).text());
    const [last] = samplesOf(metrics, 'pgbackman_backup_last_verified_timestamp_seconds', {
      definition: 'nightly',
    });
    assert.ok(
      last !== undefined && Math.abs(last.value - Date.now() / 1000) < 120,
      'the last pass, read back from the catalogue',
    );
    agent.signal('SIGTERM');
    assert.equal(await agent.exited, 0, agent.stderr());
    agent = undefined;

    const dumps = JSON.parse((await cli('get', 'backups', '-o', 'json')).stdout) as Record<string, unknown>[];
    const tested = dumps.find((d) => d.restoreVerifyStatus !== null);
    assert.equal(tested?.restoreVerifyStatus, 'VERIFIED');
    assert.equal(
      (tested?.restoreVerifyDetails as { probe: unknown } | undefined)?.probe,
      null,
      'the probe did not run without the flag',
    );
    const scratch = await withClient(
      testServerUrl(),
      async (c) =>
        (await c.query("select datname from pg_database where datname like 'pgbackman_verify_%'")).rows,
    );
    assert.deepEqual(scratch, []);
  });

  test('an encrypted dump: the agent started with PGBACKMAN_AGE_IDENTITY restores it for a RestoreDefinition', async () => {
    const keyFile = join(dir, 'age.key');
    execFileSync('age-keygen', ['-o', keyFile], { stdio: 'ignore' });
    const recipient = execFileSync('age-keygen', ['-y', keyFile], { encoding: 'utf8' }).trim();
    await writeSetup('', `, encryption: {age: {recipients: ["${recipient}"]}}`);
    agent = start();
    await agent.waitFor((l) => l.event === 'scheduled');
    await agent.waitFor((l) => l.event === 'reconciled', 30_000);
    const dumped = await cli('run', 'nightly');
    assert.equal(dumped.code, 0, dumped.stderr);
    const [newest] = JSON.parse((await cli('get', 'backups', '-o', 'json')).stdout) as {
      encryption: { age: { recipients: string[] } } | null;
    }[];
    assert.deepEqual(newest?.encryption?.age.recipients, [recipient], 'the dump is encrypted');
    agent.signal('SIGTERM');
    assert.equal(await agent.exited, 0, agent.stderr());

    // The keys themselves in the environment, as a container's secret would hand them over.
    const identity = (readFileSync(keyFile, 'utf8').match(/^AGE-SECRET-KEY-1\S+$/m) ?? [])[0] as string;
    agent = startWith({ PGBACKMAN_AGE_IDENTITY: identity });
    await agent.waitFor((l) => l.event === 'scheduled');
    const from = agent.lines.length;
    await writeSetup(
      restoreDefinition('sealed', `target: {node: n1, database: ${SEALED}}`),
      `, encryption: {age: {recipients: ["${recipient}"]}}`,
    );
    const restored = await agent.waitFor(
      (l) => l.event === 'restore_finished' && l.restoreDefinition === 'RestoreDefinition/sealed',
      60_000,
      from,
    );
    assert.equal(restored.status, 'SUCCEEDED', JSON.stringify(restored));
    const rows = await withClient(
      withDatabase(testServerUrl(), SEALED),
      async (c) => (await c.query('select count(*)::int as n from t')).rows[0],
    );
    assert.equal(rows.n, 500);
    assert.doesNotMatch(agent.stderr() + JSON.stringify(agent.lines), /AGE-SECRET-KEY/);
    agent.signal('SIGTERM');
    assert.equal(await agent.exited, 0, agent.stderr());
    agent = undefined;
  });
});
