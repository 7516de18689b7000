import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { validateManifests } from '../../src/manifest/validate-manifests.ts';
import { runCli, writeTree } from '../support/run-cli.ts';

// A real public key, and the same with one character changed: its Bech32 checksum no longer holds.
const KEY = execFileSync('age-keygen', ['-y'], {
  input: execFileSync('age-keygen', { stdio: ['ignore', 'pipe', 'ignore'] }),
  encoding: 'utf8',
}).trim();
const TYPO = `${KEY.slice(0, 20)}${KEY[20] === 'q' ? 'p' : 'q'}${KEY.slice(21)}`;

const manifests = (server: string, definition: string) => `apiVersion: pgbackman.io/v1
kind: BackupServer
metadata: {name: backup01}
spec:
  hostname: backup01.example.net
${server}
---
apiVersion: pgbackman.io/v1
kind: PgSQLNode
metadata: {name: pg01}
spec: {host: pg01.example.net}
---
apiVersion: pgbackman.io/v1
kind: BackupDefinition
metadata: {name: shop}
spec:
  server: backup01
  node: pg01
  database: shop
${definition}
`;

async function findings(server: string, definition = ''): Promise<string[]> {
  const dir = await writeTree({ 'm.yaml': manifests(server, definition) });
  const { diagnostics } = await validateManifests([dir]);
  return diagnostics.map((d) => `${d.address?.split('/')[0] ?? ''} ${d.pointer}: ${d.message}`);
}

describe('encryption in manifests: what validate accepts and refuses', () => {
  test('recipients on the server, as its default, or on the definition: valid', async () => {
    assert.deepEqual(await findings(`  encryption: {age: {recipients: ["${KEY}"]}}`), []);
    assert.deepEqual(await findings(`  defaults: {encryption: {age: {recipients: ["${KEY}"]}}}`), []);
    assert.deepEqual(
      await findings('', `  encryption: {age: {recipients: ["${KEY}"]}}\n  format: plain`),
      [],
    );
  });

  const cases: [string, string, string, RegExp][] = [
    [
      'a recipient with a typo (its checksum fails)',
      `  encryption: {age: {recipients: ["${TYPO}"]}}`,
      '',
      /BackupServer \/spec\/encryption\/age\/recipients\/0: ".*" is not an age recipient .*its checksum does not match/,
    ],
    [
      'a secret key where the public key belongs',
      '  encryption: {age: {recipients: ["AGE-SECRET-KEY-1QQQQ"]}}',
      '',
      /BackupServer \/spec\/encryption\/age\/recipients\/0: /,
    ],
    [
      'a recipient with spaces around it',
      `  encryption: {age: {recipients: [" ${KEY} "]}}`,
      '',
      /BackupServer \/spec\/encryption\/age\/recipients\/0: ".*" has spaces or a line break around it/,
    ],
    [
      'a secret key written as a recipient (not repeated in the message)',
      '  encryption: {age: {recipients: ["AGE-SECRET-KEY-1QYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSQ5Y9Y3"]}}',
      '',
      /BackupServer \/spec\/encryption\/age\/recipients\/0: a secret key \(AGE-SECRET-KEY-…\) is written where a recipient belongs[^Q]*$/,
    ],
    [
      'no recipient',
      '  encryption: {age: {recipients: []}}',
      '',
      /BackupServer \/spec\/encryption\/age\/recipients: /,
    ],
    [
      'a passphrase (not supported)',
      '  encryption: {age: {passphrase: hunter2}}',
      '',
      /BackupServer \/spec\/encryption\/age: /,
    ],
    [
      'both spec.encryption and spec.defaults.encryption',
      `  encryption: {age: {recipients: ["${KEY}"]}}\n  defaults: {encryption: {age: {recipients: ["${KEY}"]}}}`,
      '',
      /BackupServer \/spec\/encryption: encryption is set both here and in spec\.defaults\.encryption/,
    ],
    [
      'the directory format, encrypted by the server',
      `  encryption: {age: {recipients: ["${KEY}"]}}`,
      '  format: directory',
      /BackupDefinition \/spec\/format: an encrypted dump cannot use format: directory .*the encryption \(from BackupServer\/backup01 spec\.encryption\)/,
    ],
  ];
  for (const [name, server, definition, expected] of cases)
    test(`refused: ${name}`, async () => {
      const found = await findings(server, definition);
      assert.ok(
        found.some((f) => expected.test(f)),
        `${expected} not among:\n${found.join('\n')}`,
      );
    });

  test('validate names the file and line of a mistyped recipient', async () => {
    const dir = await writeTree({
      'm.yaml': manifests(`  encryption:\n    age:\n      recipients:\n        - "${TYPO}"`, ''),
    });
    const r = await runCli(['validate', dir]);
    assert.equal(r.code, 1);
    assert.match(
      r.stdout + r.stderr,
      /m\.yaml:9:11: error: BackupServer\/backup01: .*is not an age recipient/,
    );
  });
});
