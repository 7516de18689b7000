import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { conninfo } from '../../../src/backup/dump/conninfo.ts';
import { pgSslOption } from '../../../src/backup/dump/node-connection.ts';
import { findPgBinDir } from '../../support/throwaway-postgres.ts';

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

describe('a node that accepts the connection and never answers', () => {
  test('pg_dump gives up after connect_timeout instead of waiting for ever', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((s) => sockets.push(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    try {
      const started = Date.now();
      const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        let stderr = '';
        const child = spawn(join(findPgBinDir(), 'pg_dump'), [
          '--dbname',
          conninfo({ host: '127.0.0.1', port, sslMode: 'disable' }, 'shop', { connectTimeoutS: 2 }),
          '--no-password',
        ]);
        child.stderr.on('data', (c: Buffer) => {
          stderr += c.toString();
        });
        child.on('close', (code) => resolve({ code, stderr }));
      });
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /timeout expired/);
      assert.ok(Date.now() - started < 15_000, `pg_dump took ${Date.now() - started} ms`);
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  test('every tool is given the timeout and keepalives, 30 s by default', () => {
    const c = conninfo({ host: 'pg01' }, 'shop');
    for (const part of [
      "connect_timeout='30'",
      "keepalives='1'",
      "keepalives_idle='60'",
      "keepalives_interval='10'",
      "keepalives_count='6'",
    ])
      assert.ok(c.includes(` ${part}`), part);
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
