import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { freePort } from '../../src/system/free-port.ts';
import { createTestCatalogue, type TestCatalogue } from '../support/catalogues.ts';
import { assertNoStackTrace, runCli, writeTree } from '../support/run-cli.ts';
import { testServerUrl, withClient } from '../support/test-database.ts';

// This file's own databases on the shared cluster (pol_plan_), created and dropped here.
const DATABASES = ['pol_plan_a', 'pol_plan_Ø', 'pol_plan_drop'];
const q = pg.escapeIdentifier;

interface Definition {
  name: string;
  spec: { node: string; database?: string; suspend?: boolean; schedule?: string };
  annotations: Record<string, string>;
}

describe('plan and apply expand policies', () => {
  let catalogue: TestCatalogue;
  let dir: string;
  const server = new URL(testServerUrl());
  const cli = async (...args: string[]) => {
    const r = await runCli(['--catalogue', catalogue.location, ...args]);
    assertNoStackTrace(r);
    return r;
  };
  const manifests = async (n2Port: string) => {
    const docs = [
      `kind: BackupServer\nmetadata: {name: local}\nspec: {hostname: localhost, rootDirectory: ${join(dir, 'root')}}`,
      `kind: PgSQLNode\nmetadata: {name: n1, labels: {env: prod}}\nspec: {host: ${server.hostname}, port: ${server.port}}`,
      `kind: PgSQLNode\nmetadata: {name: n2, labels: {env: prod}}\nspec: {host: ${server.hostname}, port: ${n2Port}}`,
      `kind: BackupPolicy\nmetadata: {name: pp, labels: {team: dba}}\nspec: {server: local, nodeSelector: {matchLabels: {env: prod}}, databases: {include: ['pol_plan_*']}, template: {schedule: '15 3 * * *'}, deletedDatabaseRetention: 7d}`,
      `kind: BackupDefinition\nmetadata: {name: a-explicit}\nspec: {server: local, node: n1, database: pol_plan_a, schedule: auto}`,
    ];
    await writeFile(
      join(dir, 'm.yaml'),
      docs.map((d) => `apiVersion: pgbackman.io/v1\n${d}\n`).join('---\n'),
    );
    return join(dir, 'm.yaml');
  };
  const generated = async () =>
    ((JSON.parse((await cli('get', 'definitions', '-o', 'json')).stdout) as Definition[]) ?? []).filter(
      (d) => d.annotations['pgbackman.io/generated-by'] === 'BackupPolicy/pp',
    );

  before(async () => {
    await withClient(server.href, async (c) => {
      for (const db of DATABASES) {
        await c.query(`drop database if exists ${q(db)} with (force)`);
        await c.query(`create database ${q(db)}`);
      }
    });
    catalogue = await createTestCatalogue('postgres', 'pol_plan');
    dir = await writeTree({});
  });

  after(async () => {
    await catalogue?.drop();
    await withClient(server.href, async (c) => {
      for (const db of DATABASES) await c.query(`drop database if exists ${q(db)} with (force)`);
    });
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('the plan creates a definition per live database the policy selects; an explicit one wins', async () => {
    const file = await manifests(server.port);
    const plan = await cli('plan', file);
    assert.equal(plan.code, 0, plan.stderr);
    assert.match(plan.stdout, /\+ BackupDefinition\/pp-n1-pol-plan-drop-[0-9a-f]{8}\b/);
    assert.match(plan.stdout, /\+ BackupDefinition\/pp-n1-pol-plan-o-[0-9a-f]{8}\b/);
    assert.match(plan.stdout, /\+ BackupDefinition\/pp-n2-pol-plan-a-[0-9a-f]{8}\b/);
    assert.doesNotMatch(plan.stdout, /pp-n1-pol-plan-a/, 'a-explicit covers pol_plan_a on n1');
    const applied = await cli('apply', '--auto-approve', file);
    assert.equal(applied.code, 0, applied.stderr);
    const defs = await generated();
    assert.equal(defs.length, 5);
    const o = defs.find((d) => d.spec.database === 'pol_plan_Ø' && d.spec.node === 'n1');
    assert.equal(o?.spec.schedule, '15 3 * * *');
    assert.equal(o?.spec.suspend, undefined);
    const table = await cli('get', 'definitions');
    assert.match(table.stdout, /pp-n1-pol-plan-o-[0-9a-f]{8} .* policy:pp\n/);
    const again = await cli('plan', '--detailed-exitcode', file);
    assert.equal(again.code, 0, `nothing to change the second time:\n${again.stdout}`);
  });

  test("a dropped database's definition is suspended, not removed", async () => {
    await withClient(server.href, (c) => c.query(`drop database ${q('pol_plan_drop')} with (force)`));
    const applied = await cli('apply', '--auto-approve', await manifests(server.port));
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /Objects: 0 added, 2 changed, 0 destroyed/);
    const gone = (await generated()).filter((d) => d.spec.database === 'pol_plan_drop');
    assert.equal(gone.length, 2);
    for (const d of gone) {
      assert.equal(d.spec.suspend, true);
      assert.match(d.annotations['pgbackman.io/database-dropped-at'] ?? '', /^\d{4}-\d\d-\d\dT/);
    }
  });

  test('a node that cannot be reached: the policy is said not expanded there, its definitions kept', async () => {
    const plan = await cli('plan', await manifests(String(await freePort())));
    assert.equal(plan.code, 0, plan.stderr);
    assert.match(
      plan.stderr,
      /^warning: BackupPolicy\/pp could not be expanded on node n2 \(NODE_UNREACHABLE: cannot connect to .*\); its definitions there are kept as they are$/m,
    );
    assert.match(plan.stdout, /~ PgSQLNode\/n2/);
    assert.match(plan.stdout, /Plan: 0 to add, 1 to change, 0 to destroy\./);
  });
});
