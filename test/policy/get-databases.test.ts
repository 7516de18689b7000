import assert from 'node:assert/strict';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { freePort } from '../../src/system/free-port.ts';
import { createTestCatalogue, type TestCatalogue } from '../support/catalogues.ts';
import { assertNoStackTrace, runCli, writeTree } from '../support/run-cli.ts';
import { testServerUrl, withClient } from '../support/test-database.ts';

// The shared test cluster holds other files' databases too: every assertion looks at this file's own (pol_gd_).
const DATABASES = ['pol_gd_shop', 'pol_gd_Shop_ø', 'pol_gd_données', 'pol_gd_skip_me', 'pol_gd_crm'];
// Created after the apply: the policy covers it, its definition is not in the catalogue yet.
const LATER = 'pol_gd_later_ü';
const q = pg.escapeIdentifier;

interface Row {
  node: string;
  database: string;
  coveredBy: { definition: string; policy: string | null; applied: boolean; suspended: boolean }[];
}

describe('pgbackman get databases', () => {
  let catalogue: TestCatalogue;
  let dir: string;
  const server = new URL(testServerUrl());
  const cli = async (...args: string[]) => {
    const r = await runCli(['--catalogue', catalogue.location, ...args]);
    assertNoStackTrace(r);
    return r;
  };
  const ours = (rows: Row[]) => rows.filter((r) => r.database.startsWith('pol_gd_'));

  before(async () => {
    await withClient(server.href, async (c) => {
      for (const db of DATABASES) {
        await c.query(`drop database if exists ${q(db)} with (force)`);
        await c.query(`create database ${q(db)}`);
      }
      await c.query(`drop database if exists ${q(LATER)} with (force)`);
    });
    catalogue = await createTestCatalogue('postgres', 'pol_gd');
    const downPort = await freePort();
    const node = (name: string, extra: string) =>
      `kind: PgSQLNode\nmetadata: {name: ${name}, labels: {env: prod}}\nspec: {host: ${server.hostname}, ${extra}}`;
    dir = await writeTree({});
    const docs = [
      `kind: BackupServer\nmetadata: {name: local}\nspec: {hostname: localhost, rootDirectory: ${join(dir, 'root')}}`,
      node('n1', `port: ${server.port}`),
      node('n2', `port: ${server.port}, passwordFrom: {file: ${join(dir, 'secrets', 'pw')}}`),
      node('down1', `port: ${downPort}`),
      `kind: BackupPolicy\nmetadata: {name: pol}\nspec: {server: local, nodeSelector: {names: [n1, down1]}, databases: {include: ['pol_gd_*'], exclude: ['pol_gd_skip*']}}`,
      `kind: BackupDefinition\nmetadata: {name: shop-nightly}\nspec: {server: local, node: n1, database: pol_gd_shop, schedule: auto}`,
      `kind: BackupDefinition\nmetadata: {name: crm-on-n2}\nspec: {server: local, node: n2, database: pol_gd_crm, schedule: auto}`,
      `kind: BackupDefinition\nmetadata: {name: n1-cluster}\nspec: {server: local, node: n1, code: CLUSTER, schedule: auto}`,
    ];
    await writeFile(
      join(dir, 'manifests.yaml'),
      docs.map((d) => `apiVersion: pgbackman.io/v1\n${d}\n`).join('---\n'),
    );
    await mkdir(join(dir, 'secrets'), { mode: 0o700 });
    await writeFile(join(dir, 'secrets', 'pw'), 'unused with trust\n');
    await chmod(join(dir, 'secrets', 'pw'), 0o600);
    const applied = await cli('apply', '--auto-approve', join(dir, 'manifests.yaml'));
    assert.equal(applied.code, 0, applied.stderr);
    await withClient(server.href, (c) => c.query(`create database ${q(LATER)}`));
  });

  after(async () => {
    await catalogue?.drop();
    await withClient(server.href, async (c) => {
      for (const db of [...DATABASES, LATER]) await c.query(`drop database if exists ${q(db)} with (force)`);
    });
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('each live database with what covers it: a definition, a policy, or nothing', async () => {
    const r = await cli('get', 'databases', '--node', 'n1', '-o', 'json');
    assert.equal(r.code, 0, r.stderr);
    const rows = JSON.parse(r.stdout) as Row[];
    const names = rows.map((x) => x.database);
    assert.ok(!names.includes('template0'), 'a template that refuses connections is no database');
    assert.ok(names.includes('postgres') && names.includes('template1'));
    assert.deepEqual(rows.find((x) => x.database === 'postgres')?.coveredBy, []);
    const byName = Object.fromEntries(ours(rows).map((x) => [x.database, x.coveredBy]));
    assert.deepEqual(Object.keys(byName).sort(), [
      'pol_gd_Shop_ø',
      'pol_gd_crm',
      'pol_gd_données',
      'pol_gd_later_ü',
      'pol_gd_shop',
      'pol_gd_skip_me',
    ]);
    assert.deepEqual(byName.pol_gd_shop, [
      { definition: 'shop-nightly', policy: null, applied: true, suspended: false },
    ]);
    assert.deepEqual(byName.pol_gd_skip_me, []);
    assert.equal(byName.pol_gd_Shop_ø?.length, 1);
    assert.match(byName.pol_gd_Shop_ø?.[0]?.definition ?? '', /^pol-n1-pol-gd-shop-o-[0-9a-f]{8}$/);
    assert.deepEqual(
      { ...byName.pol_gd_Shop_ø?.[0], definition: '' },
      {
        definition: '',
        policy: 'pol',
        applied: true,
        suspended: false,
      },
    );
    assert.match(byName.pol_gd_later_ü?.[0]?.definition ?? '', /^pol-n1-pol-gd-later-u-[0-9a-f]{8}$/);
    assert.equal(byName.pol_gd_later_ü?.[0]?.applied, false, 'created since the last apply');
    assert.match(byName.pol_gd_données?.[0]?.definition ?? '', /^pol-n1-pol-gd-donnees-[0-9a-f]{8}$/);
    assert.equal(byName.pol_gd_crm?.[0]?.policy, 'pol', "n2's definition of pol_gd_crm does not cover n1's");
  });

  test('a node that cannot be reached is named on stderr, the others are still listed, exit 1', async () => {
    const r = await cli('get', 'databases', '--secrets-dir', join(dir, 'secrets'));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error\[NODE_UNREACHABLE\]: node down1: cannot connect to 127\.0\.0\.1:\d+/m);
    assert.doesNotMatch(r.stderr, /node n[12]/);
    const lines = r.stdout.split('\n');
    assert.match(lines[0] ?? '', /^NODE\s+DATABASE\s+COVERED BY/);
    const line = (node: string, db: string) =>
      lines.find((l) => l.startsWith(`${node} `) && l.split(/\s+/)[1] === db) ?? '';
    assert.match(line('n1', 'pol_gd_shop'), /shop-nightly$/);
    assert.match(line('n1', 'pol_gd_skip_me'), /\s-$/);
    assert.match(line('n1', 'pol_gd_Shop_ø'), /pol-n1-pol-gd-shop-o-[0-9a-f]{8} \(BackupPolicy\/pol\)$/);
    assert.match(line('n2', 'pol_gd_crm'), /crm-on-n2$/);
    assert.match(line('n2', 'pol_gd_shop'), /\s-$/, 'the policy does not select n2');
  });

  test('--uncovered keeps only the databases nothing backs up', async () => {
    const r = await cli('get', 'databases', '--uncovered', '--node', 'n1', '-o', 'json');
    assert.equal(r.code, 0, r.stderr);
    const rows = JSON.parse(r.stdout) as Row[];
    assert.deepEqual(
      ours(rows).map((x) => x.database),
      ['pol_gd_skip_me'],
    );
    assert.ok(rows.every((x) => x.coveredBy.length === 0));
  });

  test('a password file outside the secrets directory is refused for its node alone', async () => {
    const r = await cli('get', 'databases', '-o', 'yaml');
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^error\[UNSAFE\]: node n2: refusing the node's password file \/.*\/secrets\/pw: the secrets directory \/etc\/pgbackman\/secrets cannot be used/m,
    );
    assert.match(r.stdout, /node: n1\n {2}database: pol_gd_shop\n/);
    assert.doesNotMatch(r.stdout, /node: n2/);
  });

  test('an unknown node is an error', async () => {
    const r = await cli('get', 'databases', '--node', 'nope');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /error\[NOT_FOUND\]: PgSQLNode\/nope is not in the catalogue/);
  });
});
