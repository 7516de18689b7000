import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { type AgentProcess, startAgent, watchingAgentArgs } from '../support/agent-process.ts';
import { createTestCatalogue, type TestCatalogue } from '../support/catalogues.ts';
import { runCli } from '../support/run-cli.ts';
import { withClient, withDatabase } from '../support/test-database.ts';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../support/throwaway-postgres.ts';

const q = pg.escapeIdentifier;
const TWO = 'rdc two ü';

describe('a RestoreDefinition of CLUSTER dumps, restored by the agent onto another node', () => {
  let catalogue: TestCatalogue;
  let dir: string;
  let source: ThrowawayPostgres;
  let target: ThrowawayPostgres;
  let agent: AgentProcess | undefined;
  const cli = (...args: string[]) => runCli(['--catalogue', catalogue.location, ...args]);
  const manifests = () => join(dir, 'manifests');
  const doc = (kind: string, name: string, spec: string) =>
    `---\napiVersion: pgbackman.io/v1\nkind: ${kind}\nmetadata: {name: ${name}}\nspec: {${spec}}\n`;
  const writeSetup = (extra = '') =>
    writeFile(
      join(manifests(), 'setup.yaml'),
      doc(
        'BackupServer',
        'local',
        `hostname: localhost, rootDirectory: ${JSON.stringify(join(dir, 'root'))}`,
      ) +
        doc('PgSQLNode', 'src', `host: 127.0.0.1, port: ${source.port}, sslMode: disable`) +
        doc('PgSQLNode', 'copy', `host: 127.0.0.1, port: ${target.port}, sslMode: disable`) +
        doc('BackupDefinition', 'whole', 'server: local, node: src, code: CLUSTER, schedule: "0 3 * * *"') +
        extra,
    );
  const count = (url: string, database: string) =>
    withClient(
      withDatabase(url, database),
      async (c) => (await c.query('select count(*)::int as n from items')).rows[0].n as number,
    );

  before(async () => {
    [source, target] = await Promise.all([
      startThrowawayPostgres('rdc-source'),
      startThrowawayPostgres('rdc-target'),
    ]);
    await withClient(source.url, async (c) => {
      await c.query("create role rdc_owner login password 'rdc-secret'");
      await c.query('create database rdc_one owner rdc_owner');
      await c.query(`create database ${q(TWO)} owner rdc_owner`);
    });
    for (const [db, rows] of [
      ['rdc_one', 300],
      [TWO, 42],
    ] as const)
      await withClient(withDatabase(source.url, db), (c) =>
        c.query(
          `create table items as select g as id from generate_series(1, ${rows}) g; alter table items owner to rdc_owner`,
        ),
      );
    // The target already has one of the dump's databases: `existing: rename` keeps it aside.
    await withClient(target.url, (c) => c.query('create database rdc_one'));
    await withClient(withDatabase(target.url, 'rdc_one'), (c) => c.query('create table marker ()'));
    catalogue = await createTestCatalogue('postgres', 'agent-restore-cluster');
    dir = await mkdtemp(join(tmpdir(), 'pgbackman-agent-restore-cluster-'));
    await mkdir(manifests(), { recursive: true });
    await writeSetup();
  });
  after(async () => {
    agent?.signal('SIGKILL');
    await Promise.all([source?.stop(), target?.stop()]);
    await catalogue?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  test('every database with its roles, existing ones renamed; one with existing: fail, or a backupId with target.database, is refused and recorded', async () => {
    agent = startAgent(watchingAgentArgs(catalogue.location, manifests(), join(dir, 'state')));
    await agent.waitFor((l) => l.event === 'scheduled');
    const dumped = await cli('run', 'whole');
    assert.equal(dumped.code, 0, dumped.stderr);
    const id = /Backup ([0-9a-f-]{36}) SUCCEEDED/.exec(dumped.stdout)?.[1] as string;

    const from = agent.lines.length;
    await writeSetup(
      doc(
        'RestoreDefinition',
        'copy-all',
        'source: {definition: whole}, target: {node: copy}, existing: rename',
      ) +
        doc('RestoreDefinition', 'copy-fail', 'source: {definition: whole}, target: {node: copy}') +
        doc(
          'RestoreDefinition',
          'by-id',
          `source: {backupId: "${id}"}, server: local, target: {node: copy, database: rdc_one}`,
        ),
    );
    const finished = async (name: string) =>
      agent?.waitFor(
        (l) => l.event === 'restore_finished' && l.restoreDefinition === `RestoreDefinition/${name}`,
        60_000,
        from,
      );
    const all = await finished('copy-all');
    assert.equal(all?.status, 'SUCCEEDED', JSON.stringify(all));
    assert.equal(await count(target.url, 'rdc_one'), 300);
    assert.equal(await count(target.url, TWO), 42);
    const onTarget = await withClient(target.url, async (c) => ({
      owner: (
        await c.query(
          `select pg_get_userbyid(datdba) as o from pg_database where datname = '${TWO.replace(/'/g, "''")}'`,
        )
      ).rows[0]?.o,
      role: (await c.query("select rolcanlogin from pg_roles where rolname = 'rdc_owner'")).rows[0]
        ?.rolcanlogin,
      kept: (await c.query("select datname from pg_database where datname like 'rdc\\_one\\_%'")).rows.map(
        (r) => r.datname as string,
      ),
    }));
    assert.deepEqual(onTarget.owner, 'rdc_owner');
    assert.equal(onTarget.role, true, 'the role the dump declares, created as it was');
    assert.equal(onTarget.kept.length, 1, 'the database that was there is kept under another name');
    const marker = await withClient(
      withDatabase(target.url, onTarget.kept[0] as string),
      async (c) => (await c.query("select to_regclass('marker') is not null as m")).rows[0].m,
    );
    assert.equal(marker, true);

    const refused = await finished('copy-fail');
    assert.equal(refused?.status, 'FAILED');
    assert.match(
      String(refused?.error),
      /database "rdc_one" exists on the target; nothing was touched \(existing: rename or drop\)/,
    );
    const byId = await finished('by-id');
    assert.equal(byId?.status, 'FAILED');
    assert.match(
      String(byId?.error),
      /the dump is a CLUSTER dump, which restores every database of its node under its own name, with psql: target\.database does not apply to it; remove it/,
    );

    const restores = JSON.parse((await cli('get', 'restores', '-o', 'json')).stdout) as Record<
      string,
      unknown
    >[];
    const row = (name: string) => restores.find((r) => r.restoreDefinition === name);
    assert.equal(row('copy-all')?.status, 'SUCCEEDED');
    assert.equal(row('copy-all')?.backupId, id);
    assert.equal(row('copy-all')?.targetDatabase, '*');
    assert.equal(row('copy-fail')?.status, 'FAILED');
    assert.equal(row('by-id')?.targetDatabase, '*');
    agent.signal('SIGTERM');
    assert.equal(await agent.exited, 0, agent.stderr());
    agent = undefined;
  });
});
