import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { childEnv } from '../../../src/backup/dump/conninfo.ts';
import { readBackupManifest } from '../../../src/backup/files/backup-manifest.ts';
import { createTestCatalogue, type TestCatalogue } from '../../support/catalogues.ts';
import { localSetup } from '../../support/fixtures.ts';
import { assertNoStackTrace, runCli, writeTree } from '../../support/run-cli.ts';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../../support/throwaway-postgres.ts';

describe('pgbackman run against a node that requires a password', () => {
  let node: ThrowawayPostgres;
  let catalogue: TestCatalogue;
  let root: string;
  let secrets: string;
  before(async () => {
    node = await startThrowawayPostgres('password-node', { password: 's3cret' });
    catalogue = await createTestCatalogue('postgres', 'password');
    root = await mkdtemp(join(tmpdir(), 'pgbackman-pw-'));
    secrets = await mkdtemp(join(tmpdir(), 'pgbackman-secrets-'));
  });
  after(async () => {
    await node?.stop();
    await catalogue?.drop();
    await rm(root, { recursive: true, force: true });
    await rm(secrets, { recursive: true, force: true });
  });

  /** Applies the node with `passwordFrom`, then runs its one definition with `env` and `args` added. */
  const runWith = async (passwordFrom: string, env: NodeJS.ProcessEnv = {}, args: string[] = []) => {
    const dir = await writeTree({
      'm.yaml': localSetup({
        root,
        host: '127.0.0.1',
        port: node.port,
        nodeName: 'locked',
        nodeSpec: `passwordFrom: ${passwordFrom}`,
        definitions: { nightly: 'database: postgres' },
      }),
    });
    const applied = await runCli(['--catalogue', catalogue.location, 'apply', dir, '--auto-approve']);
    assert.equal(applied.code, 0, applied.stderr);
    return runCli([...args, '--catalogue', catalogue.location, 'run', 'nightly'], {
      env: { PGPASSWORD: undefined, PGBACKMAN_SECRETS_DIR: secrets, ...env },
    });
  };
  /** The succeeded run's backup.json: valid, and with no trace of the password or where it came from. */
  const assertNoSecretIn = async (stdout: string, ...secrets: string[]) => {
    const dir = /SUCCEEDED: .*\n {2}(.+)\n$/.exec(stdout)?.[1];
    assert.ok(dir, stdout);
    const m = await readBackupManifest(dir);
    assert.equal(m.node, 'locked');
    const text = await readFile(join(dir, 'backup.json'), 'utf8');
    for (const s of ['s3cret', 'passwordFrom', 'PGPASSWORD', 'password', 'PGBACKMAN_SECRET', ...secrets])
      assert.equal(text.includes(s), false, `backup.json holds ${s}:\n${text}`);
  };
  const envRun = (password: string | undefined) =>
    runWith('{env: PGBACKMAN_SECRET_NODE}', { PGBACKMAN_SECRET_NODE: password });

  test('a wrong password: FAILED, saying so, and the password is not printed', async () => {
    const r = await envRun('wrong-password');
    assertNoStackTrace(r);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /password authentication failed/);
    assert.doesNotMatch(r.stdout + r.stderr, /wrong-password/);
  });

  test('the variable unset: refused with its name', async () => {
    const r = await envRun(undefined);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /the node's password variable PGBACKMAN_SECRET_NODE is not set/);
  });

  test('the right password from passwordFrom.env: the dump succeeds', async () => {
    const r = await envRun('s3cret');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /SUCCEEDED: FULL dump of postgres on locked/);
    await assertNoSecretIn(r.stdout, 'PGBACKMAN_SECRET_NODE');
  });

  test('a variable not named PGBACKMAN_SECRET_*: validate names it with file:line, apply changes nothing', async () => {
    const dir = await writeTree({
      'm.yaml': localSetup({
        root,
        host: '127.0.0.1',
        port: node.port,
        nodeSpec: 'passwordFrom: {env: AWS_SECRET_ACCESS_KEY}',
        definitions: {},
      }),
    });
    const r = await runCli(['validate', dir]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /m\.yaml:\d+:\d+: error: PgSQLNode\/n1: \/spec\/passwordFrom\/env: .*PGBACKMAN_SECRET_/,
    );
  });

  test('the runtime refuses such a variable too (a catalogue written by an older pgbackman)', () => {
    assert.throws(
      () => childEnv({ host: 'h', passwordFrom: { env: 'HOME' } }, { HOME: '/root' }),
      (err: Error & { code?: string }) =>
        err.code === 'UNSAFE' && /may only name variables called PGBACKMAN_SECRET_<NAME>/.test(err.message),
    );
  });

  test("the tools get the node's password and none of the agent's other secrets", () => {
    const env = childEnv(
      { host: 'h', passwordFrom: { env: 'PGBACKMAN_SECRET_N1' } },
      {
        PATH: '/usr/bin',
        PGBACKMAN_SECRET_N1: 'mine',
        PGBACKMAN_SECRET_N2: 'another node’s',
        PGBACKMAN_AGE_IDENTITY: 'AGE-SECRET-KEY-1…',
        AWS_SECRET_ACCESS_KEY: 'key',
        AWS_SESSION_TOKEN: 'token',
        PGBACKMAN_SMTP_PASSWORD: 'mail',
        PGBACKMAN_STATUS_TOKEN: 'page',
      },
    );
    assert.deepEqual(env, { PATH: '/usr/bin', PGPASSWORD: 'mine' });
  });

  test('a 0600 password file inside the secrets directory: the dump succeeds', async () => {
    const file = join(secrets, 'locked.pass');
    await writeFile(file, 's3cret\n', { mode: 0o600 });
    const r = await runWith(`{file: ${file}}`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /SUCCEEDED/);
    await assertNoSecretIn(r.stdout, file, 'locked.pass', secrets);
  });

  test('a password file others can read (0644): refused before reading, the password not printed', async () => {
    const file = join(secrets, 'readable.pass');
    await writeFile(file, 's3cret\n');
    await chmod(file, 0o644);
    const r = await runWith(`{file: ${file}}`);
    assertNoStackTrace(r);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /FAILED/);
    assert.match(
      r.stderr,
      /refusing the node's password file .*readable\.pass: its mode is 0644; group and others must have no access \(chmod 0600\)/,
    );
    assert.doesNotMatch(r.stdout + r.stderr, /s3cret/);
  });

  test('a file outside the secrets directory (even through a symlink inside it): refused, saying what to do', async () => {
    const outside = await mkdtemp(join(tmpdir(), 'pgbackman-outside-'));
    try {
      const file = join(outside, 'stolen');
      await writeFile(file, 'not-for-manifests\n', { mode: 0o600 });
      await symlink(file, join(secrets, 'link.pass'));
      for (const named of [file, join(secrets, 'link.pass')]) {
        const r = await runWith(`{file: ${named}}`);
        assert.equal(r.code, 1);
        assert.match(
          r.stderr,
          /is not inside the secrets directory .*; move it there, or start pgbackman with --secrets-dir/,
        );
        assert.doesNotMatch(r.stdout + r.stderr, /not-for-manifests/);
      }
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });

  test('/dev/zero, even with --secrets-dir /dev: refused as not a regular file, at once', async () => {
    const started = Date.now();
    const r = await runWith('{file: /dev/zero}', {}, ['--secrets-dir', '/dev']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /refusing the node's password file \/dev\/zero: it is not a regular file/);
    assert.ok(Date.now() - started < 20_000);
  });

  test('a password file larger than 4 KiB: refused', async () => {
    const file = join(secrets, 'big.pass');
    await writeFile(file, 'x'.repeat(5000), { mode: 0o600 });
    const r = await runWith(`{file: ${file}}`);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /big\.pass: it holds 5000 bytes, more than 4096/);
  });

  test('without --secrets-dir, the default /etc/pgbackman/secrets is the only place', async () => {
    const file = join(secrets, 'locked.pass');
    const r = await runWith(`{file: ${file}}`, { PGBACKMAN_SECRETS_DIR: undefined });
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /the secrets directory \/etc\/pgbackman\/secrets|not inside the secrets directory \/etc\/pgbackman\/secrets/,
    );
  });
});
