import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { conninfo } from '../../../src/backup/dump/conninfo.ts';
import { pgSslOption } from '../../../src/backup/dump/node-connection.ts';

describe('conninfo for pg_dump and pg_dumpall', () => {
  const node = { host: 'pg01', sslMode: 'verify-full' as const, sslRootCert: '/etc/pgbackman/ca.crt' };
  test('a pg_dump of 16 or newer is told to refuse cleartext passwords (libpq require_auth)', () => {
    assert.match(conninfo(node, 'shop', { libpqMajor: 16 }), / require_auth='!password'/);
    assert.match(conninfo(node, 'shop', { libpqMajor: 17 }), / require_auth='!password'/);
  });
  test('pg_dump 15 has no require_auth: it is left out (our own connection refuses first)', () => {
    assert.doesNotMatch(conninfo(node, 'shop', { libpqMajor: 15 }), /require_auth/);
  });
  test('allowCleartextPassword: true leaves require_auth out', () => {
    assert.doesNotMatch(
      conninfo({ ...node, allowCleartextPassword: true }, 'shop', { libpqMajor: 17 }),
      /require_auth/,
    );
  });
  test('sslMode and sslRootCert reach libpq', () => {
    const c = conninfo(node, 'shop');
    assert.match(c, / sslmode='verify-full'/);
    assert.match(c, / sslrootcert='\/etc\/pgbackman\/ca\.crt'/);
  });
});

describe("sslMode for pgbackman's own connection", () => {
  test('disable and allow: no TLS; prefer and require: TLS without verification', () => {
    assert.equal(pgSslOption({ host: 'h', sslMode: 'disable' }), false);
    assert.equal(pgSslOption({ host: 'h', sslMode: 'allow' }), false);
    assert.deepEqual(pgSslOption({ host: 'h' }), { rejectUnauthorized: false });
    assert.deepEqual(pgSslOption({ host: 'h', sslMode: 'require' }), { rejectUnauthorized: false });
  });
  test('verify-full verifies the certificate and the host name; verify-ca only the certificate', () => {
    const full = pgSslOption({ host: 'h', sslMode: 'verify-full' });
    assert.ok(full !== false && full.rejectUnauthorized === true && full.checkServerIdentity === undefined);
    const ca = pgSslOption({ host: 'h', sslMode: 'verify-ca' });
    assert.ok(ca !== false && ca.rejectUnauthorized === true && typeof ca.checkServerIdentity === 'function');
  });
  test('an sslRootCert that cannot be read: an error naming it', () => {
    assert.throws(
      () => pgSslOption({ host: 'h', sslMode: 'verify-full', sslRootCert: '/nonexistent/ca.crt' }),
      /cannot read the node's sslRootCert \/nonexistent\/ca\.crt/,
    );
  });
});
