import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BASE, definition, NODE, SERVER } from '../support/fixtures.ts';
import { assertNoStackTrace, runCli, writeTree } from '../support/run-cli.ts';

async function validate(files: Record<string, string>, ...flags: string[]) {
  const dir = await writeTree(files);
  const result = await runCli(['validate', dir, ...flags]);
  assertNoStackTrace(result);
  return { ...result, dir };
}

describe('pgbackman validate', () => {
  test('accepts the shipped manifests/ and prints the summary', async () => {
    const r = await runCli(['validate']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.match(r.stdout, /^\d+ resources in \d+ files: \d+ valid, 0 invalid\n$/);
  });

  test('points an unknown field at its key, and suggests the field that was meant', async () => {
    const r = await validate({
      ...BASE,
      'defs.yaml': definition('shop', 'database: shop\n  retentionn: { period: 14d }'),
    });
    assert.equal(r.code, 1);
    assert.ok(
      r.stderr.includes(
        `${r.dir}/defs.yaml:9:3: error: BackupDefinition/shop: /spec/retentionn: unknown field "retentionn"; did you mean "retention"?`,
      ),
      r.stderr,
    );
    assert.match(r.stdout, /^3 resources in 3 files: 2 valid, 1 invalid$/m);
  });

  test('reports every error of every file at once', async () => {
    const r = await validate({
      ...BASE,
      'a.yaml': definition('one', 'database: shop\n  schedule: "61 * * * *"'),
      'b/c.yaml': `${definition('two', 'database: shop\n  retention: { period: 0d }')}---\n${definition('three', 'code: CLUSTER\n  database: shop')}`,
    });
    assert.equal(r.code, 1);
    assert.ok(
      r.stderr.includes(
        `${r.dir}/a.yaml:9:13: error: BackupDefinition/one: /spec/schedule: schedule "61 * * * *" is not a valid cron expression`,
      ),
      r.stderr,
    );
    assert.ok(
      r.stderr.includes(
        `${r.dir}/b/c.yaml:9:24: error: BackupDefinition/two: /spec/retention/period: duration "0d" must be longer than zero`,
      ),
      r.stderr,
    );
    assert.ok(
      r.stderr.includes(
        `${r.dir}/b/c.yaml:19:13: error: BackupDefinition/three: /spec/database: a CLUSTER dump covers the whole node`,
      ),
      r.stderr,
    );
    assert.match(r.stdout, /^5 resources in 4 files: 2 valid, 3 invalid$/m);
  });

  test('refuses a second object with the same Kind/name and says where the first is', async () => {
    const r = await validate({ ...BASE, 'a.yaml': definition('shop'), 'b.yaml': definition('shop') });
    assert.equal(r.code, 1);
    assert.ok(
      r.stderr.includes(
        `${r.dir}/b.yaml:4:9: error: BackupDefinition/shop: /metadata/name: duplicate: BackupDefinition/shop is already defined at ${r.dir}/a.yaml:4:9`,
      ),
      r.stderr,
    );
  });

  test('names an undefined reference and the nearest defined name', async () => {
    const r = await validate({
      ...BASE,
      'a.yaml': definition('shop').replace('server: backup01', 'server: backup1'),
    });
    assert.equal(r.code, 1);
    assert.ok(
      r.stderr.includes(`/spec/server: BackupServer "backup1" is not defined; did you mean "backup01"?`),
      r.stderr,
    );
  });

  test('gives the same positions for files parsed on the fast and the precise path', async () => {
    const bad = definition('shop', 'database: shop\n  format: zip');
    const withAnchor = bad.replace('metadata:', 'metadata: &meta').replace('  name: shop', '  name: shop');
    const fast = await validate({ ...BASE, 'a.yaml': bad });
    const precise = await validate({ ...BASE, 'a.yaml': withAnchor });
    assert.ok(
      fast.stderr.includes(
        'a.yaml:9:11: error: BackupDefinition/shop: /spec/format: must be one of custom, directory, plain, tar (got "zip")',
      ),
      fast.stderr,
    );
    assert.ok(
      precise.stderr.includes('a.yaml:9:11: error: BackupDefinition/shop: /spec/format: must be one of'),
      precise.stderr,
    );
  });

  test('applies node defaults before checking: jobs from the node need the directory format', async () => {
    const node = NODE.replace(
      '  host: pg01.example.com',
      '  host: pg01.example.com\n  defaults: { jobs: 4 }',
    );
    const r = await validate({ 'servers.yaml': SERVER, 'nodes.yaml': node, 'a.yaml': definition('shop') });
    assert.equal(r.code, 1);
    assert.ok(
      r.stderr.includes(
        '/spec: jobs: 4 (from PgSQLNode/pg01 spec.defaults) needs format: directory; the format is custom (the default)',
      ),
      r.stderr,
    );
    const fixed = await validate({
      'servers.yaml': SERVER,
      'nodes.yaml': node,
      'a.yaml': definition('shop', 'database: shop\n  format: directory'),
    });
    assert.equal(fixed.code, 0, fixed.stderr);
  });

  test('refuses a restore that would drop the database it restores from', async () => {
    const restore = `apiVersion: pgbackman.io/v1
kind: RestoreDefinition
metadata:
  name: back-in-place
spec:
  source: { definition: shop }
  target: { node: pg01 }
  existing: drop
`;
    const r = await validate({ ...BASE, 'a.yaml': definition('shop'), 'r.yaml': restore });
    assert.equal(r.code, 1);
    assert.ok(
      r.stderr.includes(
        `${r.dir}/r.yaml:8:13: error: RestoreDefinition/back-in-place: /spec/existing: existing: drop would drop shop on pg01`,
      ),
      r.stderr,
    );
  });

  test('stops an alias bomb quickly with a clear message', async () => {
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++)
      levels.push(
        `l${i}: &l${i} [${Array(10)
          .fill(i === 1 ? '*a' : `*l${i - 1}`)
          .join(',')}]`,
      );
    const r = await validate({ 'bomb.yaml': `${levels.join('\n')}\n` });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /bomb\.yaml:2:\d+: error: YAML: aliases expand to too many nodes/);
  });

  test('-o json prints diagnostics with severity, address, pointer and range', async () => {
    const r = await validate(
      { ...BASE, 'a.yaml': definition('shop', 'database: shop\n  code: FUL') },
      '-o',
      'json',
    );
    assert.equal(r.code, 1);
    const out = JSON.parse(r.stdout);
    assert.equal(out.format_version, '1.0');
    assert.equal(out.valid, false);
    assert.equal(out.error_count, 1);
    assert.deepEqual(out.summary, {
      text: '3 resources in 3 files: 2 valid, 1 invalid',
      files: 3,
      unreadable_files: 0,
      yaml_error_files: 0,
      resources: 3,
      valid: 2,
      invalid: 1,
    });
    const [d] = out.diagnostics;
    assert.equal(d.severity, 'error');
    assert.equal(d.address, 'BackupDefinition/shop');
    assert.equal(d.pointer, '/spec/code');
    assert.equal(d.range.filename, `${r.dir}/a.yaml`);
    assert.deepEqual([d.range.start.line, d.range.start.column], [9, 9]);
  });

  test('says so when a path does not exist or holds no manifests', async () => {
    const missing = await runCli(['validate', '/nonexistent/manifests']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, 'error[NOT_FOUND]: /nonexistent/manifests: no such file or directory\n');
    const empty = await validate({ 'README.md': '# not a manifest\n' });
    assert.equal(empty.code, 1);
    assert.match(empty.stderr, /^error\[NO_MANIFESTS\]: no manifest files \(\*\.yaml, \*\.yml\) in /);
  });
  test('prints warnings without failing: a policy whose selector matches no node', async () => {
    const policy = `apiVersion: pgbackman.io/v1
kind: BackupPolicy
metadata:
  name: all-staging
spec:
  server: backup01
  nodeSelector: { matchLabels: { env: staging } }
`;
    const r = await validate({ ...BASE, 'p.yaml': policy });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(
      r.stderr.includes(
        `${r.dir}/p.yaml:7:32: warning: BackupPolicy/all-staging: /spec/nodeSelector/matchLabels: no PgSQLNode has the labels env=staging`,
      ),
      r.stderr,
    );
    assert.match(r.stdout, /3 resources in 3 files: 3 valid, 0 invalid/);
  });

  test('a CLUSTER dump does not inherit the pg_dump extraArgs of its node defaults', async () => {
    const node = NODE.replace(
      '  host: pg01.example.com',
      '  host: pg01.example.com\n  defaults: { extraArgs: ["--exclude-table-data=audit.*"] }',
    );
    const r = await validate({
      'servers.yaml': SERVER,
      'nodes.yaml': node,
      'a.yaml': definition('all', 'code: CLUSTER'),
    });
    assert.equal(r.code, 0, r.stderr);
    const own = await validate({
      ...BASE,
      'a.yaml': definition('all', 'code: CLUSTER\n  extraArgs: ["--exclude-table-data=audit.*"]'),
    });
    assert.equal(own.code, 1);
    assert.ok(
      own.stderr.includes('/spec/extraArgs/0: pg_dumpall option "--exclude-table-data" is not allowed'),
      own.stderr,
    );
  });
});
