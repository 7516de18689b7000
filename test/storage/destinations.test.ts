import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import type { Destination } from '../../src/storage/destination.ts';
import { localDestination } from '../../src/storage/local-destination.ts';
import { s3Destination } from '../../src/storage/s3-destination.ts';
import { rejection } from '../support/rejection.ts';
import { startTestS3, type TestS3 } from '../support/s3-server.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const KEY = 'node-a/shop/20261203T101500Z-FULL-shop-4f2a9c1e/database.dump';

async function bytesOf(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('storage destinations: the same contract for a directory and an S3 bucket', () => {
  let s3: TestS3;
  let dir: string;
  const made: Destination[] = [];
  before(async () => {
    s3 = await startTestS3(['dumps', 'other']);
    dir = mkdtempSync(join(tmpdir(), 'pgbackman-local-dest-'));
  });
  after(async () => {
    for (const d of made) d.close();
    await s3?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const bucket = (prefix = 'site-a/', extra: Partial<Parameters<typeof s3Destination>[2]> = {}) => {
    const d = s3Destination(
      'offsite',
      { endpoint: s3.endpoint, region: 'eu-north-1', bucket: 'dumps', prefix, forcePathStyle: true },
      { credentials: s3.credentials, partBytes: 5 * 1024 * 1024, ...extra },
    );
    made.push(d);
    return d;
  };

  for (const kind of ['local', 's3'] as const) {
    test(`${kind}: a put streams a 12 MiB object in parts, and head, get and delete see exactly it`, async () => {
      const d = kind === 'local' ? localDestination('disk2', join(dir, 'disk2')) : bucket();
      const data = randomBytes(12 * 1024 * 1024 + 17);
      // Three chunks of odd sizes: the object is what was streamed, not what one write held.
      const stored = await d.put(
        KEY,
        Readable.from([data.subarray(0, 1000), data.subarray(1000, 7_000_001), data.subarray(7_000_001)]),
      );
      assert.deepEqual([stored.key, stored.bytes, stored.sha256], [KEY, data.length, sha(data)]);
      assert.equal(stored.etag === null, kind === 'local');
      assert.deepEqual(await d.head(KEY), { bytes: data.length, etag: stored.etag });
      assert.equal(sha(await bytesOf(await d.get(KEY))), sha(data));
      assert.equal(await d.head('node-a/shop/none/database.dump'), null);
      const missing = await rejection(d.get('node-a/shop/none/database.dump'));
      assert.equal(missing.code, 'NOT_FOUND');
      await d.delete(KEY);
      assert.equal(await d.head(KEY), null);
      await d.delete(KEY); // already gone: not an error
    });

    test(`${kind}: a key that would leave the directory or prefix is refused before anything is sent`, async () => {
      const d = kind === 'local' ? localDestination('disk2', join(dir, 'disk2')) : bucket();
      for (const key of ['../escape.dump', 'a/../../b', '/etc/passwd', 'a//b', 'a/./b', 'a\\b', 'a/b\n']) {
        const err = await rejection(d.put(key, Readable.from([Buffer.from('x')])));
        assert.equal(err.code, 'UNSAFE', key);
        assert.match(err.message, /is not a key pgbackman writes/);
      }
    });
  }

  test('local: a put that fails part-way leaves no file, and no temporary one', async () => {
    const d = localDestination('disk2', join(dir, 'broken'));
    const body = new Readable({
      read() {
        this.push(Buffer.alloc(1024, 1));
        this.destroy(new Error('the dump stopped'));
      },
    });
    const err = await rejection(d.put('n/db/run/database.dump', body));
    assert.equal(err.code, 'IO');
    assert.match(
      err.message,
      /disk2 \(.*broken\): could not write n\/db\/run\/database\.dump: the dump stopped/,
    );
    assert.deepEqual(readdirSync(join(dir, 'broken', 'n', 'db', 'run')), []);
  });

  test('local: a symbolic link on the way is refused, and nothing is written where it points', async () => {
    const base = join(dir, 'linked');
    const elsewhere = join(dir, 'elsewhere');
    mkdirSync(base, { mode: 0o700 });
    mkdirSync(elsewhere, { mode: 0o700 });
    symlinkSync(elsewhere, join(base, 'n'));
    const d = localDestination('disk2', base);
    const err = await rejection(d.put('n/db/run/database.dump', Readable.from([Buffer.from('x')])));
    assert.equal(err.code, 'UNSAFE');
    assert.match(err.message, /is a symbolic link/);
    assert.deepEqual(readdirSync(elsewhere), []);
    // Reading through it is refused as well: the link is not followed to an object someone else put there.
    assert.equal(await d.head('n/db/run/database.dump'), null);
  });

  test('s3: the prefix is where objects go; the same key under another prefix is another object', async () => {
    const a = bucket('site-a/');
    const b = bucket('site-b/');
    await a.put('k/database.dump', Readable.from([Buffer.from('A')]));
    assert.equal(await b.head('k/database.dump'), null);
    assert.equal((await bytesOf(await a.get('k/database.dump'))).toString(), 'A');
  });

  test('s3: a bucket that does not exist is STORAGE_REFUSED, and says so', async () => {
    const d = s3Destination(
      'offsite',
      { endpoint: s3.endpoint, region: 'eu-north-1', bucket: 'no-such-bucket', forcePathStyle: true },
      { credentials: s3.credentials },
    );
    made.push(d);
    const put = await rejection(d.put('k/database.dump', Readable.from([Buffer.from('x')])));
    assert.equal(put.code, 'STORAGE_REFUSED');
    assert.match(
      put.message,
      /^offsite \(s3:\/\/no-such-bucket\/ at http:\/\/127\.0\.0\.1:\d+\): could not upload k\/database\.dump: the bucket does not exist/,
    );
    const head = await rejection(d.head('k/database.dump'));
    assert.equal(head.code, 'STORAGE_REFUSED', head.message);
    assert.match(head.message, /the bucket does not exist/);
  });

  test('s3: wrong credentials are STORAGE_REFUSED, and the secret is not in the message', async () => {
    const d = bucket('site-a/', {
      credentials: { accessKeyId: 'AKIAWRONG', secretAccessKey: 'not-the-secret-1234' },
    });
    const err = await rejection(d.put('k/database.dump', Readable.from([Buffer.from('x')])));
    assert.equal(err.code, 'STORAGE_REFUSED');
    assert.match(
      err.message,
      /the credentials were refused or lack the permission: InvalidAccessKeyId \(HTTP 403\)/,
    );
    assert.doesNotMatch(err.message, /not-the-secret-1234/);
  });

  test('s3: an endpoint nobody listens on is STORAGE_UNREACHABLE (transient), after the retries, in bounded time', async () => {
    const port = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => resolve(p));
      });
    });
    const d = s3Destination(
      'offsite',
      { endpoint: `http://127.0.0.1:${port}`, region: 'eu-north-1', bucket: 'dumps', forcePathStyle: true },
      { credentials: s3.credentials, maxAttempts: 2 },
    );
    made.push(d);
    const err = await rejection(d.head('k/database.dump'));
    assert.equal(err.code, 'STORAGE_UNREACHABLE');
    assert.match(err.message, /ECONNREFUSED/);
  });

  test('s3: a server that accepts and never answers is STORAGE_UNREACHABLE after the request timeout', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    try {
      const d = s3Destination(
        'offsite',
        { endpoint: `http://127.0.0.1:${port}`, region: 'eu-north-1', bucket: 'dumps', forcePathStyle: true },
        { credentials: s3.credentials, maxAttempts: 1, requestTimeoutMs: 300 },
      );
      made.push(d);
      const started = Date.now();
      const err = await rejection(d.head('k/database.dump'));
      assert.equal(err.code, 'STORAGE_UNREACHABLE');
      assert.ok(Date.now() - started < 10_000, 'bounded by the request timeout, not the OS');
    } finally {
      silent.close();
    }
  });
});
