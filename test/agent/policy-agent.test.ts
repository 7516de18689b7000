import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { type AgentProcess, startAgent } from '../support/agent-process.ts';
import { createTestCatalogue, type TestCatalogue } from '../support/catalogues.ts';
import { runCli } from '../support/run-cli.ts';
import { testServerUrl, withClient } from '../support/test-database.ts';

// This file's own databases on the shared cluster (pol_ag_), created and dropped here.
const FIRST = ['pol_ag_one', 'pol_ag_ü'];
const LATER = 'pol_ag_later';
const q = pg.escapeIdentifier;

interface Definition {
  name: string;
  spec: { node: string; database?: string; suspend?: boolean };
  annotations: Record<string, string>;
}

describe("the agent keeps a policy's databases covered as they come and go", () => {
  let catalogue: TestCatalogue;
  let dir: string;
  let agent: AgentProcess | undefined;
  const node = new URL(testServerUrl());
  const cli = (...args: string[]) => runCli(['--catalogue', catalogue.location, ...args]);
  const generated = async () =>
    (JSON.parse((await cli('get', 'definitions', '-o', 'json')).stdout) as Definition[]).filter(
      (d) => d.annotations['pgbackman.io/generated-by'] === 'BackupPolicy/every-db',
    );
  /** Asked until `ok` holds: the agent reconciles every 2 s. */
  const eventually = async (ok: (defs: Definition[]) => boolean, what: string) => {
    let last: Definition[] = [];
    for (let i = 0; i < 60; i++) {
      last = await generated();
      if (ok(last)) return last;
      await sleep(500);
    }
    assert.fail(`${what}; the generated definitions: ${JSON.stringify(last.map((d) => [d.name, d.spec]))}`);
  };

  before(async () => {
    catalogue = await createTestCatalogue('postgres', 'policy-agent');
    dir = await mkdtemp(join(tmpdir(), 'pgbackman-policy-agent-'));
    await withClient(testServerUrl(), async (c) => {
      for (const db of [...FIRST, LATER]) await c.query(`drop database if exists ${q(db)} with (force)`);
      for (const db of FIRST) await c.query(`create database ${q(db)}`);
    });
    await mkdir(join(dir, 'manifests'));
    const docs = [
      `kind: BackupServer\nmetadata: {name: local}\nspec: {hostname: localhost, rootDirectory: ${JSON.stringify(join(dir, 'root'))}}`,
      `kind: PgSQLNode\nmetadata: {name: n1}\nspec: {host: ${node.hostname}, port: ${node.port}}`,
      // Nothing listens on port 1: the policy cannot be expanded there, and the agent says so once.
      'kind: PgSQLNode\nmetadata: {name: n2-down}\nspec: {host: 127.0.0.1, port: 1}',
      `kind: BackupPolicy\nmetadata: {name: every-db}\nspec: {server: local, nodeSelector: {names: [n1, n2-down]}, databases: {include: ['pol_ag_*']}, template: {schedule: '0 3 * * *'}, deletedDatabaseRetention: 7d}`,
    ];
    await writeFile(
      join(dir, 'manifests', 'm.yaml'),
      docs.map((d) => `apiVersion: pgbackman.io/v1\n${d}\n`).join('---\n'),
    );
  });
  after(async () => {
    agent?.signal('SIGKILL');
    await withClient(testServerUrl(), async (c) => {
      for (const db of [...FIRST, LATER]) await c.query(`drop database if exists ${q(db)} with (force)`);
    });
    await catalogue?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  test('databases created after the agent started are covered at its next reconcile, dropped ones suspended; run takes a generated one', async () => {
    agent = startAgent([
      '--catalogue',
      catalogue.location,
      'agent',
      '--server',
      'local',
      '--watch',
      join(dir, 'manifests'),
      '--state-dir',
      join(dir, 'state'),
      '--interval',
      '2s',
      '--listen',
      'none',
    ]);
    const first = await eventually((d) => d.length === 2, 'both databases covered after the first reconcile');
    assert.deepEqual(first.map((d) => d.spec.database).sort(), ['pol_ag_one', 'pol_ag_ü']);

    await withClient(testServerUrl(), (c) => c.query(`create database ${q(LATER)}`));
    await eventually(
      (d) => d.some((x) => x.spec.database === LATER),
      `${LATER} covered without a new commit`,
    );

    await withClient(testServerUrl(), (c) => c.query(`drop database ${q('pol_ag_one')} with (force)`));
    const after = await eventually(
      (d) => d.some((x) => x.spec.database === 'pol_ag_one' && x.spec.suspend === true),
      'the dropped database suspended',
    );
    assert.equal(
      after.find((x) => x.spec.database === 'pol_ag_one')?.annotations['pgbackman.io/database-dropped-at'] !==
        undefined,
      true,
    );

    const warned = agent.lines.filter((l) => l.event === 'expansion_warning');
    assert.equal(warned.length, 1, `said once, not at every reconcile: ${JSON.stringify(warned)}`);
    assert.match(String(warned[0]?.msg), /BackupPolicy\/every-db could not be expanded on node n2-down/);

    const umlaut = after.find((x) => x.spec.database === 'pol_ag_ü') as Definition;
    const run = await cli('run', umlaut.name);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /SUCCEEDED: FULL dump of pol_ag_ü on n1/);
    agent.signal('SIGTERM');
    assert.equal(await agent.exited, 0, agent.stderr());
    agent = undefined;
  });
});
