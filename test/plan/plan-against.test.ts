import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { runCli } from '../support/run-cli.ts';

const run = promisify(execFile);
/** No catalogue answers here: a plan --against must not need one. */
const NOWHERE = ['--catalogue', 'postgres://pgbackman@127.0.0.1:1/nowhere'];

const doc = (kind: string, name: string, spec: string) =>
  `apiVersion: pgbackman.io/v1\nkind: ${kind}\nmetadata: {name: ${name}}\nspec: ${spec}\n`;
const BASE = [
  doc('BackupServer', 'b1', '{hostname: backup01}'),
  doc('PgSQLNode', 'n1', '{host: db1.example.org}'),
  doc('BackupDefinition', 'shop', '{server: b1, node: n1, database: shop, schedule: "30 2 * * *"}'),
  doc('BackupDefinition', 'old', '{server: b1, node: n1, database: old, schedule: "30 3 * * *"}'),
].join('---\n');

describe('plan --against REF: a pull request planned against its base, without the catalogue', () => {
  let repo: string;
  const git = (...args: string[]) =>
    run('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.org', ...args], { cwd: repo });
  const plan = (...args: string[]) => runCli([...NOWHERE, 'plan', 'manifests', ...args], { cwd: repo });

  before(async () => {
    repo = await mkdtemp(join(tmpdir(), 'pgbackman-against-'));
    await git('init', '-q', '-b', 'main');
    await mkdir(join(repo, 'manifests'));
    await writeFile(join(repo, 'manifests', 'setup.yaml'), BASE);
    // A link in the base's tree is skipped, never followed to what it names.
    await symlink('/etc/passwd', join(repo, 'manifests', 'passwd.yaml'));
    await git('add', '-A');
    await git('commit', '-qm', 'base');
    await unlink(join(repo, 'manifests', 'passwd.yaml'));
    await git('checkout', '-qb', 'feature');
  });
  after(() => rm(repo, { recursive: true, force: true }));

  test('the working tree against main: an add, a change and a destroy in the plan vocabulary; exit 2 with --detailed-exitcode', async () => {
    await writeFile(
      join(repo, 'manifests', 'setup.yaml'),
      BASE.replace('"30 2 * * *"', '"45 2 * * *"').replace(/---\n[^-]*name: old[^\n]*\n[^\n]*\n$/, '') +
        `---\n${doc('BackupDefinition', 'billing', '{server: b1, node: n1, database: billing}')}`,
    );
    const r = await plan('--against', 'main', '--detailed-exitcode');
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stdout, /\+ BackupDefinition\/billing/);
    assert.match(r.stdout, /~ spec\.schedule = "30 2 \* \* \*" -> "45 2 \* \* \*"/);
    assert.match(r.stdout, /- BackupDefinition\/old/);
    assert.match(r.stdout, /Plan: 1 to add, 1 to change, 1 to destroy\./);

    const md = await plan('--against', 'main', '-o', 'markdown');
    assert.equal(md.code, 0);
    assert.match(md.stdout, /\*\*Plan: 1 to add, 1 to change, 1 to destroy\.\*\*/);
    assert.match(md.stdout, /This plan \*\*destroys\*\* `BackupDefinition\/old`/);

    const json = JSON.parse((await plan('--against', 'main', '-o', 'json')).stdout);
    const { stdout: sha } = await git('rev-parse', 'main');
    assert.equal(json.against, `main@sha1:${sha.trim()}`);
    assert.deepEqual(json.catalogue, { lineage: null, serial: null });
    assert.deepEqual(
      json.changes.map((c: { address: string; actions: string[] }) => [c.address, c.actions.join('+')]),
      [
        ['BackupDefinition/billing', 'create'],
        ['BackupDefinition/shop', 'update'],
        ['BackupDefinition/old', 'delete'],
      ],
    );
  });

  test('nothing changed since the base: "No changes", exit 0', async () => {
    await writeFile(join(repo, 'manifests', 'setup.yaml'), BASE);
    const r = await plan('--against', 'main', '--detailed-exitcode');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'No changes. The manifests are the same as at main.\n');
  });

  test('a revision that is not there, or looks like an option, is a clear error', async () => {
    const missing = await plan('--against', 'no-such-branch');
    assert.equal(missing.code, 1);
    assert.match(
      missing.stderr,
      /error\[NOT_FOUND\]: --against no-such-branch: no such commit, branch or tag in /,
    );
    const option = await plan('--against=--output=/tmp/x');
    assert.equal(option.code, 64);
    assert.match(option.stderr, /is not a git revision/);
    const out = await plan('--against', 'main', '--out', join(repo, 'plan.json'));
    assert.equal(out.code, 64);
  });

  test('a base that does not validate says where, as REF:file:line, and plans nothing', async () => {
    await writeFile(
      join(repo, 'manifests', 'setup.yaml'),
      BASE.replace('hostname: backup01', 'hostname: backup01, bogus: 1'),
    );
    await git('commit', '-qam', 'broken');
    await writeFile(join(repo, 'manifests', 'setup.yaml'), BASE);
    const r = await plan('--against', 'HEAD');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^HEAD:manifests\/setup\.yaml:\d+:\d+: error: BackupServer\/b1/m);
    assert.match(r.stderr, /the manifests at HEAD do not validate/);
    assert.equal(r.stdout, '');
  });

  test('a manifest file over the size limit at the base is refused before it is read', async () => {
    await writeFile(join(repo, 'manifests', 'huge.yaml'), `# ${'x'.repeat(1024 * 1024 + 10)}\n`);
    await git('add', '-A');
    await git('commit', '-qm', 'huge');
    await rm(join(repo, 'manifests', 'huge.yaml'));
    const r = await plan('--against', 'HEAD');
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /--against HEAD: manifests\/huge\.yaml is \d+ bytes there, over the limit of 1048576 bytes/,
    );
  });
});
