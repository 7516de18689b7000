import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { type AgentProcess, startAgent, watchingAgentArgs } from '../support/agent-process.ts';
import { createTestCatalogue, type TestCatalogue } from '../support/catalogues.ts';
import { localSetup } from '../support/fixtures.ts';
import { runCli } from '../support/run-cli.ts';
import { createSourceDatabase, testServerUrl, withClient } from '../support/test-database.ts';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../support/throwaway-postgres.ts';

const exec = promisify(execFile);
const SOURCE = 'agent_restore_timeout_src';

describe('the agent and a restore target that stops answering', () => {
  let catalogue: TestCatalogue;
  let dir: string;
  let target: ThrowawayPostgres;
  let agent: AgentProcess | undefined;
  const node = new URL(testServerUrl());
  const manifests = () => join(dir, 'manifests');
  const cli = (...args: string[]) => runCli(['--catalogue', catalogue.location, ...args]);
  const writeSetup = (extra = '') =>
    writeFile(
      join(manifests(), 'setup.yaml'),
      `${localSetup({
        root: join(dir, 'root'),
        host: node.hostname,
        port: node.port,
        definitions: { nightly: `database: ${SOURCE}, schedule: "0 3 * * *"` },
      })}---\napiVersion: pgbackman.io/v1\nkind: PgSQLNode\nmetadata: {name: frozen}\nspec: {host: 127.0.0.1, port: ${target.port}}\n${extra}`,
    );

  before(async () => {
    catalogue = await createTestCatalogue('postgres', 'agent-restore-timeout');
    dir = await mkdtemp(join(tmpdir(), 'pgbackman-agent-restore-timeout-'));
    target = await startThrowawayPostgres('agent-restore-timeout');
    // Large enough that pg_restore is still copying when the target is frozen.
    await createSourceDatabase(
      SOURCE,
      'create table t as select g, md5(g::text) as h from generate_series(1, 1500000) g',
    );
    await mkdir(manifests(), { recursive: true });
    await writeSetup();
  });
  after(async () => {
    agent?.signal('SIGKILL');
    await target?.thaw().catch(() => undefined);
    await target?.stop();
    await withClient(testServerUrl(), (c) => c.query(`drop database if exists ${SOURCE} with (force)`));
    await catalogue?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  test('a RestoreDefinition past its timeout is stopped and recorded FAILED; the agent goes on and stops cleanly', async () => {
    agent = startAgent(watchingAgentArgs(catalogue.location, manifests(), join(dir, 'state')));
    await agent.waitFor((l) => l.event === 'scheduled');
    const dumped = await cli('run', 'nightly');
    assert.equal(dumped.code, 0, dumped.stderr);

    const from = agent.lines.length;
    await writeSetup(
      '---\napiVersion: pgbackman.io/v1\nkind: RestoreDefinition\nmetadata: {name: slow}\nspec: {source: {definition: nightly}, target: {node: frozen, database: copy}, timeout: 2s}\n',
    );
    const pgRestores = async () =>
      (
        await exec('pgrep', ['-f', `pg_restore .*port='${target.port}'`]).catch(() => ({ stdout: '' }))
      ).stdout.trim();
    for (let i = 0; i < 800 && (await pgRestores()) === ''; i++) await new Promise((r) => setTimeout(r, 25));
    assert.notEqual(await pgRestores(), '', 'the agent started pg_restore');
    await target.freeze();
    let finished: Awaited<ReturnType<AgentProcess['waitFor']>>;
    try {
      finished = await agent.waitFor(
        (l) => l.event === 'restore_finished' && l.restoreDefinition === 'RestoreDefinition/slow',
        45_000,
        from,
      );
    } finally {
      await target.thaw();
    }
    assert.equal(finished.status, 'FAILED', JSON.stringify(finished));
    assert.match(String(finished.error), /took longer than its timeout of 2s: stopped/);
    const rows = await withClient(
      catalogue.location,
      async (c) =>
        (await c.query("select status, error from pgbackman.restore_runs where restore_definition = 'slow'"))
          .rows as { status: string; error: string }[],
    );
    assert.deepEqual(
      rows.map((r) => r.status),
      ['FAILED'],
    );
    assert.equal(await pgRestores(), '', 'no pg_restore is left');
    agent.signal('SIGTERM');
    assert.equal(await agent.exited, 0, agent.stderr());
  });
});
