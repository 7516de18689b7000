import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { validateManifests } from '../../src/manifest/validate-manifests.ts';
import { BASE, definition, NODE } from '../support/fixtures.ts';
import { writeTree } from '../support/run-cli.ts';

const restore = (spec: string) => `apiVersion: pgbackman.io/v1
kind: RestoreDefinition
metadata:
  name: r
spec:
  ${spec}
`;

const snapshot = `apiVersion: pgbackman.io/v1
kind: SnapshotDefinition
metadata:
  name: snap
spec:
  server: backup01
  node: pg01
  database: shop
  at: "2026-12-01T02:00:00Z"
`;

/** One rule per case: the files beyond the base set, and the pointer and words of the finding it must give. */
const cases: { name: string; files: Record<string, string>; pointer: string; message: RegExp }[] = [
  {
    name: 'a backup id that is no id',
    files: {
      'a.yaml': definition('d'),
      'r.yaml': restore(
        'source: { backupId: not-a-uuid }\n  server: backup01\n  target: { node: pg01, database: copy }',
      ),
    },
    pointer: '/spec/source/backupId',
    message: /"not-a-uuid" is not a backup id/,
  },
  {
    name: 'a restore test of a CLUSTER definition',
    files: { 'a.yaml': definition('d', 'code: CLUSTER\n  verify: { every: 7d, node: pg01 }') },
    pointer: '/spec/verify',
    message: /a restore test restores one database's dump; a CLUSTER definition has none/,
  },
  {
    name: 'a restore test on a node that is not defined',
    files: { 'a.yaml': definition('d', 'database: shop\n  verify: { every: 7d, node: scratch }') },
    pointer: '/spec/verify/node',
    message: /PgSQLNode "scratch" is not defined/,
  },
  {
    name: 'a compression level outside its method’s range',
    files: { 'a.yaml': definition('d', 'database: shop\n  compression: "zstd:25"') },
    pointer: '/spec/compression',
    message: /compression level 25 is out of range for zstd \(1-22\)/,
  },
  {
    name: 'parallel pg_restore with --single-transaction',
    files: {
      'a.yaml': definition('d'),
      'r.yaml': restore(
        'source: { definition: d }\n  target: { node: pg01, database: copy }\n  jobs: 4\n  extraArgs: ["--single-transaction"]',
      ),
    },
    pointer: '/spec/jobs',
    message: /cannot use parallel jobs with --single-transaction/,
  },
  {
    name: 'parallel restore of a plain-format dump',
    files: {
      'a.yaml': definition('d', 'database: shop\n  format: plain'),
      'r.yaml': restore('source: { definition: d }\n  target: { node: pg01, database: copy }\n  jobs: 2'),
    },
    pointer: '/spec/jobs',
    message: /writes plain dumps; parallel restore needs format custom or directory/,
  },
  {
    name: 'a restore of CLUSTER dumps with renameExistingTo, jobs and extraArgs',
    files: {
      'a.yaml': definition('whole', 'code: CLUSTER\n  schedule: auto'),
      'r.yaml': restore(
        'source: { definition: whole }\n  target: { node: pg01 }\n  existing: rename\n  renameExistingTo: old\n  jobs: 2\n  extraArgs: ["--no-owner"]',
      ),
    },
    pointer: '/spec/renameExistingTo',
    message:
      /takes CLUSTER dumps, which restore every database of the node under its own name: each existing one is renamed to <name>_<UTC timestamp>; remove renameExistingTo/,
  },
  {
    name: 'a restore of CLUSTER dumps with jobs',
    files: {
      'a.yaml': definition('whole', 'code: CLUSTER\n  schedule: auto'),
      'r.yaml': restore(
        'source: { definition: whole }\n  target: { node: pg01 }\n  existing: rename\n  jobs: 2',
      ),
    },
    pointer: '/spec/jobs',
    message:
      /BackupDefinition\/whole takes CLUSTER dumps, restored with psql one database at a time: remove jobs/,
  },
  {
    name: 'a restore of CLUSTER dumps with pg_restore options',
    files: {
      'a.yaml': definition('whole', 'code: CLUSTER\n  schedule: auto'),
      'r.yaml': restore(
        'source: { definition: whole }\n  target: { node: pg01 }\n  extraArgs: ["--no-owner"]',
      ),
    },
    pointer: '/spec/extraArgs',
    message: /restored with psql: pg_restore's extraArgs do not apply; remove them/,
  },
  {
    name: 'a restore of CLUSTER dumps that would drop the databases it reads from',
    files: {
      'a.yaml': definition('whole', 'code: CLUSTER\n  schedule: auto'),
      'r.yaml': restore('source: { definition: whole }\n  target: { node: pg01 }\n  existing: drop'),
    },
    pointer: '/spec/existing',
    message: /existing: drop would drop the databases of pg01, the node this restore reads its dumps from/,
  },
  {
    name: '"before" with a snapshot source',
    files: {
      's.yaml': snapshot,
      'r.yaml': restore(
        'source: { snapshot: snap, before: "2026-12-02T00:00:00Z" }\n  target: { node: pg01, database: copy }',
      ),
    },
    pointer: '/spec/source/before',
    message: /use it with source\.definition only/,
  },
  {
    name: 'a restore due before its snapshot is taken',
    files: {
      's.yaml': snapshot,
      'r.yaml': restore(
        'source: { snapshot: snap }\n  target: { node: pg01, database: copy }\n  at: "2026-11-30T00:00:00Z"',
      ),
    },
    pointer: '/spec/at',
    message: /the restore is due before SnapshotDefinition\/snap is taken/,
  },
  {
    name: 'a restore of a backup by id without its server',
    files: { 'r.yaml': restore('source: { backupId: 6f1c2d3e }\n  target: { node: pg01, database: copy }') },
    pointer: '/spec/server',
    message: /needs spec\.server: the backup server that holds the dump/,
  },
  {
    name: 'an empty backup window',
    files: {
      'nodes.yaml': NODE.replace(
        '  host: pg01.example.com',
        '  host: pg01.example.com\n  backupWindow: { start: "02:00", end: "02:00" }',
      ),
    },
    pointer: '/spec/backupWindow',
    message: /starts and ends at 02:00, so it is empty/,
  },
  {
    name: 'both env and file for a password',
    files: {
      'nodes.yaml': NODE.replace(
        '  host: pg01.example.com',
        '  host: pg01.example.com\n  passwordFrom: { env: A, file: /etc/a }',
      ),
    },
    pointer: '/spec/passwordFrom',
    message: /give exactly one of env, file/,
  },
  {
    name: 'a password in the manifest',
    files: {
      'nodes.yaml': NODE.replace('  host: pg01.example.com', '  host: pg01.example.com\n  password: hunter2'),
    },
    pointer: '/spec/password',
    message: /passwords never go in manifests; use spec\.passwordFrom/,
  },
  {
    name: 'an option and its value in one item, separated by a space',
    files: { 'a.yaml': definition('d', 'database: shop\n  extraArgs: ["--exclude-table-data audit.*"]') },
    pointer: '/spec/extraArgs/0',
    message: /write the value after "=" in the same item: "--exclude-table-data=audit\.\*"/,
  },
  {
    name: 'a duration written in words',
    files: { 'a.yaml': definition('d', 'database: shop\n  retention: { period: 2 weeks }') },
    pointer: '/spec/retention/period',
    message: /durations are written like "2w"/,
  },
  {
    name: 'a number where text is expected',
    files: { 'nodes.yaml': NODE.replace('labels: { env: prod }', 'labels: { env: 13 }') },
    pointer: '/metadata/labels/env',
    message: /must be a string \(got number 13\); quote it if you mean the text: "13"/,
  },
  {
    name: '"yes" for a boolean',
    files: { 'a.yaml': definition('d', 'database: shop\n  suspend: yes') },
    pointer: '/spec/suspend',
    message: /must be a boolean \(got string "yes"\); write true or false/,
  },
];

describe('semantic rules and the hints that come with them', () => {
  test('a RestoreDefinition of CLUSTER dumps onto another node is valid', async () => {
    const other = NODE.replace('name: pg01', 'name: pg02').replace('pg01.example.com', 'pg02.example.com');
    const dir = await writeTree({
      ...BASE,
      'n2.yaml': other,
      'a.yaml': definition('whole', 'code: CLUSTER\n  schedule: auto'),
      'r.yaml': restore('source: { definition: whole }\n  target: { node: pg02 }\n  existing: drop'),
    });
    const { diagnostics } = await validateManifests([dir]);
    assert.deepEqual(
      diagnostics.filter((d) => d.severity === 'error').map((d) => d.message),
      [],
    );
  });

  for (const c of cases) {
    test(c.name, async () => {
      const dir = await writeTree({ ...BASE, ...c.files });
      const { diagnostics } = await validateManifests([dir]);
      const hit = diagnostics.find((d) => d.pointer === c.pointer && c.message.test(d.message));
      assert.ok(
        hit,
        `no finding at ${c.pointer} matching ${c.message}; got:\n${diagnostics.map((d) => `${d.pointer}: ${d.message}`).join('\n')}`,
      );
      assert.equal(hit.severity, 'error');
    });
  }
});
