import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { validateManifests } from '../../src/manifest/validate-manifests.ts';
import { runCli, writeTree } from '../support/run-cli.ts';

const server = (storage: string, root = '/srv/pgbackman') => `apiVersion: pgbackman.io/v1
kind: BackupServer
metadata:
  name: backup01
spec:
  hostname: backup01.example.net
  rootDirectory: ${root}
  storage:
${storage}
`;
const DISK = '    - name: disk\n      local: { path: /srv/pgbackman }';

/** The findings (pointer: message) of one server manifest with `storage`. */
async function findings(storage: string, root?: string): Promise<string[]> {
  const dir = await writeTree({ 's.yaml': server(storage, root) });
  const { diagnostics } = await validateManifests([dir]);
  return diagnostics.map((d) => `${d.pointer}: ${d.message}`);
}

describe('BackupServer.spec.storage: what validate accepts and refuses', () => {
  test('the root directory, a second disk and two buckets, one with credentials from the agent: valid', async () => {
    const storage = [
      DISK,
      '    - name: second-site\n      local: { path: /mnt/site-b/pgbackman }',
      '    - name: offsite\n      s3: { endpoint: "https://s3.example.net", region: eu-north-1, bucket: dumps, prefix: site-a/, forcePathStyle: true, storageClass: STANDARD_IA }',
      '    - name: aws\n      s3: { region: us-east-1, bucket: my.dumps-2026 }\n      credentialsFrom: { env: { accessKeyId: PGBACKMAN_SECRET_S3_ID, secretAccessKey: PGBACKMAN_SECRET_S3_KEY } }',
    ].join('\n');
    assert.deepEqual(await findings(storage), []);
  });

  test('a bucket first: the primary, the root directory only staging each dump; a second site after it: valid', async () => {
    const storage = [
      '    - name: offsite\n      s3: { endpoint: "https://s3.example.net", region: eu-north-1, bucket: dumps }',
      '    - name: second-site\n      local: { path: /mnt/site-b/pgbackman }',
    ].join('\n');
    assert.deepEqual(await findings(storage), []);
  });

  const cases: [string, string, RegExp][] = [
    [
      'a first destination that is not the root directory',
      '    - name: disk\n      local: { path: /srv/other }',
      /^\/spec\/storage\/0\/local\/path: the first destination is where dumps are written: a local one must be the rootDirectory \/srv\/pgbackman \(not \/srv\/other\)/,
    ],
    [
      'a bucket primary followed by a copy inside the root directory it stages in',
      '    - name: offsite\n      s3: { region: us-east-1, bucket: dumps }\n    - name: disk\n      local: { path: /srv/pgbackman/copies }',
      /^\/spec\/storage\/1\/local\/path: \/srv\/pgbackman\/copies overlaps the rootDirectory/,
    ],
    [
      'two prefixes of one bucket, one inside the other',
      '    - name: offsite\n      s3: { region: us-east-1, bucket: dumps }\n    - name: nested\n      s3: { region: us-east-1, bucket: dumps, prefix: n1/ }',
      /^\/spec\/storage\/1\/s3\/prefix: prefix "n1\/" overlaps storage\[0\]'s "" in the same bucket/,
    ],
    [
      'both local and s3 in one destination',
      `${DISK}\n    - name: x\n      local: { path: /mnt/x }\n      s3: { region: us-east-1, bucket: dumps }`,
      /^\/spec\/storage\/1: destination "x" needs exactly one of local or s3/,
    ],
    [
      'neither',
      `${DISK}\n    - name: x`,
      /^\/spec\/storage\/1: destination "x" needs exactly one of local or s3/,
    ],
    [
      'a name used twice',
      `${DISK}\n    - name: disk\n      local: { path: /mnt/x }`,
      /^\/spec\/storage\/1\/name: destination name "disk" is already used by storage\[0\]/,
    ],
    [
      'a copy inside the root directory',
      `${DISK}\n    - name: inner\n      local: { path: /srv/pgbackman/copies }`,
      /^\/spec\/storage\/1\/local\/path: \/srv\/pgbackman\/copies overlaps the rootDirectory/,
    ],
    [
      'a copy that holds the root directory',
      `${DISK}\n    - name: outer\n      local: { path: /srv }`,
      /^\/spec\/storage\/1\/local\/path: \/srv overlaps the rootDirectory/,
    ],
    [
      'a path that climbs',
      `${DISK}\n    - name: up\n      local: { path: /mnt/../etc }`,
      /^\/spec\/storage\/1\/local\/path: /,
    ],
    [
      'the same bucket and prefix twice',
      `${DISK}\n    - name: a\n      s3: { region: us-east-1, bucket: dumps, prefix: x/ }\n    - name: b\n      s3: { region: us-east-1, bucket: dumps, prefix: x/ }`,
      /^\/spec\/storage\/2: storage\[1\] is the same place/,
    ],
    [
      'a prefix with ..',
      `${DISK}\n    - name: a\n      s3: { region: us-east-1, bucket: dumps, prefix: a/../b/ }`,
      /^\/spec\/storage\/1\/s3\/prefix: /,
    ],
    [
      'a prefix that starts with /',
      `${DISK}\n    - name: a\n      s3: { region: us-east-1, bucket: dumps, prefix: /a/ }`,
      /^\/spec\/storage\/1\/s3\/prefix: /,
    ],
    [
      'a bucket name with capitals',
      `${DISK}\n    - name: a\n      s3: { region: us-east-1, bucket: Dumps }`,
      /^\/spec\/storage\/1\/s3\/bucket: /,
    ],
    [
      'an endpoint with a user and password',
      `${DISK}\n    - name: a\n      s3: { endpoint: "https://key:secret@s3.example.net", region: us-east-1, bucket: dumps }`,
      /^\/spec\/storage\/1\/s3\/endpoint: /,
    ],
    [
      'an endpoint with a path',
      `${DISK}\n    - name: a\n      s3: { endpoint: "https://s3.example.net/other-bucket", region: us-east-1, bucket: dumps }`,
      /^\/spec\/storage\/1\/s3\/endpoint: /,
    ],
    [
      'a key written in the manifest',
      `${DISK}\n    - name: a\n      s3: { region: us-east-1, bucket: dumps, secretAccessKey: abc }`,
      /^\/spec\/storage\/1\/s3\/secretAccessKey: unknown field "secretAccessKey": keys never go in manifests; use the destination's credentialsFrom/,
    ],
    [
      'credentials from any variable of the agent',
      `${DISK}\n    - name: a\n      s3: { region: us-east-1, bucket: dumps }\n      credentialsFrom: { env: { accessKeyId: AWS_ACCESS_KEY_ID, secretAccessKey: HOME } }`,
      /^\/spec\/storage\/1\/credentialsFrom\/env\/accessKeyId: /,
    ],
    [
      'credentials on a local destination',
      `${DISK}\n    - name: a\n      local: { path: /mnt/x }\n      credentialsFrom: { file: /etc/pgbackman/secrets/s3.json }`,
      /^\/spec\/storage\/1\/credentialsFrom: credentialsFrom is for s3 destinations/,
    ],
  ];
  for (const [what, storage, expected] of cases)
    test(`${what}: refused`, async () => {
      const found = await findings(storage);
      assert.ok(
        found.some((f) => expected.test(f)),
        `expected ${expected} among:\n${found.join('\n')}`,
      );
    });

  test('validate names the file and line of the refused destination, and exits 1', async () => {
    const dir = await writeTree({
      's.yaml': server(`${DISK}\n    - name: inner\n      local: { path: /srv/pgbackman/copies }`),
    });
    const r = await runCli(['validate', dir]);
    assert.equal(r.code, 1);
    assert.match(r.stdout + r.stderr, /s\.yaml:12:\d+.*overlaps the rootDirectory/);
  });
});
