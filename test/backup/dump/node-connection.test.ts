import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createTestCatalogue, type TestCatalogue } from '../../support/catalogues.ts';
import { localSetup } from '../../support/fixtures.ts';
import { assertNoStackTrace, runCli, writeTree } from '../../support/run-cli.ts';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../../support/throwaway-postgres.ts';

/** Applies one node (at `pg`, with `nodeSpec`) and its definition `nightly`, then runs it with the password set. */
async function applyAndRun(catalogue: TestCatalogue, root: string, pg: ThrowawayPostgres, nodeSpec: string) {
  const dir = await writeTree({
    'm.yaml': localSetup({
      root,
      host: '127.0.0.1',
      port: pg.port,
      nodeSpec: `passwordFrom: {env: PGBACKMAN_SECRET_PW}, ${nodeSpec}`,
      definitions: { nightly: 'database: postgres' },
    }),
  });
  const applied = await runCli(['--catalogue', catalogue.location, 'apply', dir, '--auto-approve']);
  assert.equal(applied.code, 0, applied.stderr);
  return runCli(['--catalogue', catalogue.location, 'run', 'nightly'], {
    env: { PGBACKMAN_SECRET_PW: 's3cret', PGPASSWORD: undefined },
  });
}

/** The sessions pgbackman itself opened and that got past authentication, from the server's log. */
async function authorizedSessions(pg: ThrowawayPostgres): Promise<number> {
  const log = await readFile(join(pg.dir, 'server.log'), 'utf8');
  return (
    log.match(/connection authorized: user=postgres database=postgres application_name=pgbackman/g)?.length ??
    0
  );
}

describe('a node that asks for the password in cleartext (pg_hba method "password"), without TLS', () => {
  let pg: ThrowawayPostgres;
  let catalogue: TestCatalogue;
  let root: string;
  before(async () => {
    pg = await startThrowawayPostgres('cleartext', {
      password: 's3cret',
      auth: 'password',
      settings: ['log_connections=on'],
    });
    catalogue = await createTestCatalogue('postgres', 'cleartext');
    root = await mkdtemp(join(tmpdir(), 'pgbackman-cleartext-'));
  });
  after(async () => {
    await pg?.stop();
    await catalogue?.drop();
    await rm(root, { recursive: true, force: true });
  });

  test('by default: refused, the password never sent, the error says what to change', async () => {
    const r = await applyAndRun(catalogue, root, pg, 'sslMode: prefer');
    assertNoStackTrace(r);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /FAILED/);
    assert.match(
      r.stderr,
      /asks for the password in cleartext \(pg_hba\.conf method "password"\); refused, the password was not sent\. .*allowCleartextPassword: true/,
    );
    assert.equal(await authorizedSessions(pg), 0);
  });

  test('sslMode: require against it: refused before authentication, though cleartext is allowed', async () => {
    const r = await applyAndRun(catalogue, root, pg, 'sslMode: require, allowCleartextPassword: true');
    assertNoStackTrace(r);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /error\[NODE_REFUSED\]: cannot connect to 127\.0\.0\.1:\d+ database "postgres": The server does not support SSL connections/,
    );
    assert.equal(await authorizedSessions(pg), 0);
  });

  test('with allowCleartextPassword: true: the dump succeeds', async () => {
    const r = await applyAndRun(catalogue, root, pg, 'sslMode: prefer, allowCleartextPassword: true');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /SUCCEEDED/);
  });
});

describe('a node serving TLS with a self-signed certificate', () => {
  let pg: ThrowawayPostgres;
  let catalogue: TestCatalogue;
  let root: string;
  before(async () => {
    pg = await startThrowawayPostgres('tls', {
      password: 's3cret',
      tls: true,
      settings: ['log_connections=on'],
    });
    catalogue = await createTestCatalogue('postgres', 'tls');
    root = await mkdtemp(join(tmpdir(), 'pgbackman-tls-'));
  });
  after(async () => {
    await pg?.stop();
    await catalogue?.drop();
    await rm(root, { recursive: true, force: true });
  });

  test('verify-full without its CA: refused before authentication (NODE_REFUSED), nothing dumped', async () => {
    const r = await applyAndRun(catalogue, root, pg, 'sslMode: verify-full');
    assertNoStackTrace(r);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /cannot connect to 127\.0\.0\.1:\d+ database "postgres": .*self[- ]signed certificate/i,
    );
    assert.equal(await authorizedSessions(pg), 0);
  });

  test('verify-full with sslRootCert naming its CA: the dump succeeds, every session over TLS', async () => {
    const r = await applyAndRun(catalogue, root, pg, `sslMode: verify-full, sslRootCert: ${pg.caFile}`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /SUCCEEDED/);
    const log = await readFile(join(pg.dir, 'server.log'), 'utf8');
    assert.match(log, /application_name=pgbackman SSL enabled/);
    assert.doesNotMatch(log, /application_name=pgbackman$/m);
  });

  test('require: TLS without verification, the dump succeeds', async () => {
    const r = await applyAndRun(catalogue, root, pg, 'sslMode: require');
    assert.equal(r.code, 0, r.stderr);
  });
});
