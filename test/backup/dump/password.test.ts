import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createTestCatalogue, type TestCatalogue } from '../../support/catalogues.ts';
import { localSetup } from '../../support/fixtures.ts';
import { assertNoStackTrace, runCli, writeTree } from '../../support/run-cli.ts';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../../support/throwaway-postgres.ts';

describe('pgbackman run against a node that requires a password', () => {
  let node: ThrowawayPostgres;
  let catalogue: TestCatalogue;
  let root: string;
  before(async () => {
    node = await startThrowawayPostgres('password-node', { password: 's3cret' });
    catalogue = await createTestCatalogue('postgres', 'password');
    root = await mkdtemp(join(tmpdir(), 'pgbackman-pw-'));
    const dir = await writeTree({
      'm.yaml': localSetup({
        root,
        host: '127.0.0.1',
        port: node.port,
        nodeName: 'locked',
        nodeSpec: 'passwordFrom: {env: PGBACKMAN_NODE_PASSWORD}',
        definitions: { nightly: 'database: postgres' },
      }),
    });
    const r = await runCli(['--catalogue', catalogue.location, 'apply', dir, '--auto-approve']);
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    await node?.stop();
    await catalogue?.drop();
    await rm(root, { recursive: true, force: true });
  });

  const run = (password: string | undefined) =>
    runCli(['--catalogue', catalogue.location, 'run', 'nightly'], {
      env: { PGBACKMAN_NODE_PASSWORD: password, PGPASSWORD: undefined },
    });

  test('a wrong password: FAILED, saying so, and the password is not printed', async () => {
    const r = await run('wrong-password');
    assertNoStackTrace(r);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /password authentication failed for user "postgres"/);
    assert.doesNotMatch(r.stdout + r.stderr, /wrong-password/);
  });

  test('the variable unset: refused with its name', async () => {
    const r = await run(undefined);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /the node's password variable PGBACKMAN_NODE_PASSWORD is not set/);
  });

  test('the right password from passwordFrom.env: the dump succeeds', async () => {
    const r = await run('s3cret');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /SUCCEEDED: FULL dump of postgres on locked/);
  });
});
