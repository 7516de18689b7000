import assert from 'node:assert/strict';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { generatedName } from '../../src/policy/generated-name.ts';
import { freePort } from '../../src/system/free-port.ts';
import { createTestCatalogue, type TestCatalogue } from '../support/catalogues.ts';
import { assertNoStackTrace, runCli, writeTree } from '../support/run-cli.ts';
import { testServerUrl, withClient } from '../support/test-database.ts';

// This file's own databases on the shared cluster (pol_life_), created and dropped here.
const DATABASES = ['pol_life_a', 'pol_life_b', 'pol_life_c', 'pol_life_drop'];
const LATER = 'pol_life_later';
const DROPPED_AT = 'pgbackman.io/database-dropped-at';
const q = pg.escapeIdentifier;

interface Definition {
  name: string;
  spec: { node: string; database?: string; suspend?: boolean };
  annotations: Record<string, string>;
}

describe('policies in plans and saved plans, against a live cluster', () => {
  let catalogue: TestCatalogue;
  let dir: string;
  let downPort: number;
  const server = new URL(testServerUrl());
  const secrets = () => ['--secrets-dir', join(dir, 'secrets')];
  const cli = async (...args: string[]) => {
    const r = await runCli(['--catalogue', catalogue.location, ...args]);
    assertNoStackTrace(r);
    return r;
  };
  // The name pol_life_c on n1 would get (hashed: "_" is reduced) is taken: it gets no definition.
  const takenHashed = generatedName('pl', 'n1', 'pol_life_c', true);
  const manifests = async (o: { skip?: boolean } = {}) => {
    const skip = o.skip === undefined ? '' : `, skipDatabasesWithDefinitions: ${o.skip}`;
    const node = (name: string, extra = '') =>
      `kind: PgSQLNode\nmetadata: {name: ${name}, labels: {env: life}}\nspec: {host: ${server.hostname}, port: ${name === 'down' ? downPort : server.port}${extra}}`;
    const def = (name: string, node: string, database: string) =>
      `kind: BackupDefinition\nmetadata: {name: ${name}}\nspec: {server: local, node: ${node}, database: ${database}, schedule: auto}`;
    const docs = [
      `kind: BackupServer\nmetadata: {name: local}\nspec: {hostname: localhost, rootDirectory: ${JSON.stringify(join(dir, 'root'))}}`,
      node('n1'),
      node('n2', `, passwordFrom: {file: ${JSON.stringify(join(dir, 'secrets', 'pw'))}}`),
      node('down'),
      `kind: BackupPolicy\nmetadata: {name: pl}\nspec: {server: local, nodeSelector: {matchLabels: {env: life}}, databases: {include: ['pol_life_*']${skip}}, template: {schedule: '15 3 * * *'}, deletedDatabaseRetention: 7d}`,
      def('a-explicit', 'n1', 'pol_life_a'),
      def(takenHashed, 'n2', 'pol_life_b'),
    ];
    await writeFile(
      join(dir, 'm.yaml'),
      docs.map((d) => `apiVersion: pgbackman.io/v1\n${d}\n`).join('---\n'),
    );
    return join(dir, 'm.yaml');
  };
  const generated = async () =>
    (JSON.parse((await cli('get', 'definitions', '-o', 'json')).stdout) as Definition[]).filter(
      (d) => d.annotations['pgbackman.io/generated-by'] === 'BackupPolicy/pl',
    );
  const serial = async () =>
    JSON.parse((await cli('catalogue', 'status', '-o', 'json')).stdout).serial as number;

  before(async () => {
    await withClient(server.href, async (c) => {
      for (const db of DATABASES) {
        await c.query(`drop database if exists ${q(db)} with (force)`);
        await c.query(`create database ${q(db)}`);
      }
      await c.query(`drop database if exists ${q(LATER)} with (force)`);
    });
    catalogue = await createTestCatalogue('postgres', 'pol_life');
    dir = await writeTree({});
    downPort = await freePort();
    await mkdir(join(dir, 'secrets'), { mode: 0o700 });
    await writeFile(join(dir, 'secrets', 'pw'), 'unused with trust\n');
    await chmod(join(dir, 'secrets', 'pw'), 0o600);
  });
  after(async () => {
    await catalogue?.drop();
    await withClient(server.href, async (c) => {
      for (const db of [...DATABASES, LATER]) await c.query(`drop database if exists ${q(db)} with (force)`);
    });
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('skipDatabasesWithDefinitions: the explicit definition wins by default; false adds the policy’s own beside it', async () => {
    const byDefault = await cli('plan', ...secrets(), await manifests());
    assert.equal(byDefault.code, 0, byDefault.stderr);
    assert.doesNotMatch(byDefault.stdout, /pl-n1-pol-life-a\b/);
    const created = (plan: string) => plan.match(/\+ BackupDefinition\/\S+/g)?.sort();
    assert.deepEqual(
      created((await cli('plan', ...secrets(), await manifests({ skip: true }))).stdout),
      created(byDefault.stdout),
      'true is the default',
    );
    const both = await cli('apply', '--auto-approve', ...secrets(), await manifests({ skip: false }));
    assert.equal(both.code, 0, both.stderr);
    assert.match(both.stdout, /\+ BackupDefinition\/pl-n1-pol-life-a\b/);
    const rows = JSON.parse((await cli('get', 'databases', '--node', 'n1', '-o', 'json')).stdout) as {
      database: string;
      coveredBy: { definition: string }[];
    }[];
    assert.match(
      rows
        .find((r) => r.database === 'pol_life_a')
        ?.coveredBy.map((c) => c.definition)
        .join(' ') ?? '',
      /^a-explicit pl-n1-pol-life-a-[0-9a-f]{8}$/,
    );
    const back = await cli('apply', '--auto-approve', ...secrets(), await manifests());
    assert.equal(back.code, 0, back.stderr);
    assert.match(back.stdout, /- BackupDefinition\/pl-n1-pol-life-a\b/);
  });

  test('plan -o json lists the expansion warnings: a node not reached, a name taken; the other fields as before', async () => {
    const r = await cli('plan', ...secrets(), '-o', 'json', await manifests());
    assert.equal(r.code, 0, r.stderr);
    const plan = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(plan), [
      'format_version',
      'catalogue',
      'revision',
      'applyable',
      'summary',
      'changes',
      'unmanaged',
      'errors',
      'warnings',
    ]);
    assert.equal(plan.format_version, '1.0');
    assert.equal(plan.applyable, true, 'a warning does not stop an apply');
    const [down, taken, ...rest] = plan.warnings;
    assert.deepEqual(rest, []);
    assert.deepEqual(
      { ...down, summary: '' },
      {
        address: 'BackupPolicy/pl',
        reason: 'node_not_reached',
        node: 'down',
        database: null,
        name: null,
        code: 'NODE_UNREACHABLE',
        summary: '',
      },
    );
    assert.match(
      down.summary,
      /^BackupPolicy\/pl could not be expanded on node down \(NODE_UNREACHABLE: cannot connect to .*\); its definitions there are kept as they are$/,
    );
    assert.deepEqual(taken, {
      address: 'BackupPolicy/pl',
      reason: 'name_taken',
      node: 'n1',
      database: 'pol_life_c',
      name: takenHashed,
      code: null,
      summary: `BackupPolicy/pl: no definition for database "pol_life_c" on node n1: the name ${takenHashed} is taken`,
    });
    for (const w of plan.warnings) assert.ok(r.stderr.includes(`warning: ${w.summary}\n`), r.stderr);
    const md = await cli('plan', ...secrets(), '-o', 'markdown', await manifests());
    assert.match(
      md.stdout,
      /> \[!WARNING\]\n> The policies could not be expanded as they ask:\n> - BackupPolicy\/pl could not be expanded on node down .*\n> - BackupPolicy\/pl: no definition for database "pol_life_c" on node n1/,
    );
  });

  test('a saved plan is refused as stale when the databases its policies select changed, and applied as planned otherwise', async () => {
    const file = join(dir, 'plan.json');
    const saved = await cli('plan', ...secrets(), '--out', file, await manifests());
    assert.equal(saved.code, 0, saved.stderr);
    await withClient(server.href, (c) => c.query(`create database ${q(LATER)}`));
    const before = { serial: await serial(), definitions: (await generated()).length };
    const stale = await cli('apply', ...secrets(), file);
    assert.equal(stale.code, 1, stale.stdout);
    assert.match(
      stale.stderr,
      /^error\[STALE_PLAN\]: Saved plan is stale: the databases its policies select changed since it was made \(node n1: "pol_life_later" created; node n2: "pol_life_later" created\), so it no longer holds the definitions they ask for; make a new plan$/m,
    );
    assert.deepEqual({ serial: await serial(), definitions: (await generated()).length }, before);

    // A new plan sees the new database. Applied where n2's password file cannot be read: n2 is not checked,
    // which is said, and its part goes in as planned.
    assert.equal((await cli('plan', ...secrets(), '--out', file, await manifests())).code, 0);
    const applied = await cli('apply', file);
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(
      applied.stderr,
      /^warning: the databases the policies select could not be checked against the saved plan \(node n2: UNSAFE: .*\); its changes there are applied as planned$/m,
    );
    assert.match(applied.stdout, /\+ BackupDefinition\/pl-n1-pol-life-later\b/);
    assert.match(applied.stdout, /Apply complete! Objects: 2 added, 0 changed, 0 destroyed\./);

    // A database dropped after the plan: the plan would keep its definition active.
    assert.equal((await cli('plan', ...secrets(), '--out', file, await manifests())).code, 0);
    await withClient(server.href, (c) => c.query(`drop database ${q(LATER)} with (force)`));
    const dropped = await cli('apply', ...secrets(), file);
    assert.equal(dropped.code, 1);
    assert.match(dropped.stderr, /\(node n1: "pol_life_later" dropped; node n2: "pol_life_later" dropped\)/);
  });

  test("a dropped database's definition is suspended, kept for deletedDatabaseRetention, then removed; its dumps stay", async () => {
    const file = await manifests();
    assert.equal((await cli('apply', '--auto-approve', ...secrets(), file)).code, 0);
    const name = (await generated()).find((d) => d.spec.node === 'n1' && d.spec.database === 'pol_life_drop')
      ?.name as string;
    const run = await cli('run', name);
    assert.equal(run.code, 0, run.stderr);
    const dump = /Backup ([0-9a-f-]{36}) SUCCEEDED/.exec(run.stdout)?.[1];

    await withClient(server.href, (c) => c.query(`drop database ${q('pol_life_drop')} with (force)`));
    const suspended = await cli('apply', '--auto-approve', ...secrets(), file);
    assert.equal(suspended.code, 0, suspended.stderr);
    const gone = (await generated()).filter((d) => d.spec.database === 'pol_life_drop');
    assert.deepEqual(
      gone.map((d) => [d.spec.node, d.spec.suspend]),
      [
        ['n1', true],
        ['n2', true],
      ],
    );
    // Time passes: the drop is moved back in the catalogue, as if it had been seen that long ago.
    const droppedAgo = (days: number) =>
      withClient(catalogue.location, (c) =>
        c.query(
          `update pgbackman.backup_definitions set annotations = annotations || jsonb_build_object($1::text, $2::text) where name = any($3)`,
          [DROPPED_AT, new Date(Date.now() - days * 86_400_000).toISOString(), gone.map((d) => d.name)],
        ),
      );
    await droppedAgo(6);
    const within = await cli('plan', '--detailed-exitcode', ...secrets(), file);
    assert.equal(within.code, 0, `kept for 7d:\n${within.stdout}`);
    await droppedAgo(8);
    const past = await cli('plan', ...secrets(), file);
    assert.match(past.stdout, new RegExp(`- BackupDefinition/${name}\\b`));
    assert.match(past.stdout, /Plan: 0 to add, 0 to change, 2 to destroy\./);
    const removed = await cli('apply', '--auto-approve', ...secrets(), file);
    assert.equal(removed.code, 0, removed.stderr);
    assert.deepEqual(
      (await generated()).filter((d) => d.spec.database === 'pol_life_drop'),
      [],
    );
    const dumps = JSON.parse((await cli('get', 'backups', '-o', 'json')).stdout) as {
      id: string;
      status: string;
    }[];
    assert.equal(dumps.find((d) => d.id === dump)?.status, 'SUCCEEDED', 'its dump keeps its own retention');
  });
});
