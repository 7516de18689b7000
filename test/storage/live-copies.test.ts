import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TreeFollower } from '../../src/backup/files/follow-tree.ts';
import { fileTarget } from '../../src/backup/files/hashed-sink.ts';
import { encryptedTarget } from '../../src/encryption/encrypted-target.ts';
import { parseAllowedDestinations } from '../../src/storage/allowed-destinations.ts';
import { copyDump } from '../../src/storage/copy-dump.ts';
import type { Destination } from '../../src/storage/destination.ts';
import { type LiveCopy, teeTarget, treeStreams } from '../../src/storage/live-copies.ts';
import { localDestination } from '../../src/storage/local-destination.ts';
import { s3Destination } from '../../src/storage/s3-destination.ts';
import { startTestS3, type TestS3 } from '../support/s3-server.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const FOLDER = 'n1/shop/20261203T101500Z-FULL-shop-4f2a9c1e';

async function bytesAt(d: Destination, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await d.get(key)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Every file under `dir`, hidden ones too (a write's temporary name starts with a dot). */
const everything = (dir: string) =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => e.name);

describe('live copies: a dump streamed to further destinations while it is written', () => {
  let s3: TestS3;
  let dir: string;
  let n = 0;
  before(async () => {
    s3 = await startTestS3(['dumps']);
    dir = mkdtempSync(join(tmpdir(), 'pgbackman-live-'));
  });
  after(async () => {
    await s3?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const live = (destination: Destination): LiveCopy => ({
    name: destination.name,
    destination,
    sent: {},
    failure: undefined,
  });
  const bucket = (name: string) =>
    s3Destination(
      'offsite',
      { endpoint: s3.endpoint, region: 'eu-north-1', bucket: name, prefix: 'site-a/', forcePathStyle: true },
      { credentials: s3.credentials, maxAttempts: 1 },
    );
  /** `data` through a tee in writes of 2 MiB from one reused buffer, as the hashed sink hands them. */
  async function feed(target: ReturnType<typeof teeTarget>, data: Buffer): Promise<void> {
    const reused = Buffer.alloc(2 * 1024 * 1024);
    for (let at = 0; at < data.length; at += reused.length) {
      const n = data.copy(reused, 0, at, at + reused.length);
      await target.write(reused.subarray(0, n));
      reused.fill(0xee); // what the sink does next: the tee must not have kept a view of it
    }
    await target.finish();
  }

  test('the primary file, a second disk and a bucket receive the same bytes in one pass, each recorded with its sha256', async () => {
    const data = randomBytes(19 * 1024 * 1024 + 123);
    const primary = join(dir, `primary-${++n}`);
    const disk = live(localDestination('second', join(dir, `second-${n}`)));
    const s3copy = live(bucket('dumps'));
    try {
      await feed(teeTarget(await fileTarget(primary), [disk, s3copy], FOLDER, 'database.sql'), data);
      assert.equal(sha(readFileSync(primary)), sha(data));
      for (const c of [disk, s3copy]) {
        assert.equal(c.failure, undefined);
        assert.equal(c.sent['database.sql']?.sha256, sha(data), c.name);
        assert.equal(sha(await bytesAt(c.destination, `${FOLDER}/database.sql`)), sha(data), c.name);
      }
      assert.ok(s3copy.sent['database.sql']?.etag, 'the bucket’s ETag is recorded');
    } finally {
      s3copy.destination.close();
    }
  });

  test('sealed before the tee: every destination receives only the encrypted bytes', async () => {
    const recipient = 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p';
    const row = Buffer.from('INSERT INTO customers VALUES (42, alice@example.org);\n'.repeat(50_000));
    const primary = join(dir, `primary-${++n}`);
    const disk = live(localDestination('second', join(dir, `second-${n}`)));
    const sealed = await encryptedTarget(
      teeTarget(await fileTarget(primary), [disk], FOLDER, 'database.sql.age'),
      [recipient],
    );
    await feed(sealed as unknown as ReturnType<typeof teeTarget>, row);
    const stored = readFileSync(primary);
    assert.ok(!stored.includes('alice@example.org'));
    assert.equal(sha(await bytesAt(disk.destination, `${FOLDER}/database.sql.age`)), sha(stored));
    assert.equal(sealed.stored().sha256, sha(stored));
  });

  test('a destination that refuses (no such bucket) is dropped with the reason; the primary is written whole', async () => {
    const data = randomBytes(5 * 1024 * 1024);
    const primary = join(dir, `primary-${++n}`);
    const gone = live(bucket('no-such-bucket'));
    try {
      await feed(teeTarget(await fileTarget(primary), [gone], FOLDER, 'database.sql'), data);
      assert.equal(sha(readFileSync(primary)), sha(data));
      assert.match(gone.failure ?? '', /^streaming database\.sql: .*bucket/i);
      assert.deepEqual(gone.sent, {});
    } finally {
      gone.destination.close();
    }
  });

  test('a local destination that cannot be written (its directory is a file) is dropped; the primary is written whole', async () => {
    const blocked = join(dir, `blocked-${++n}`);
    writeFileSync(blocked, 'not a directory');
    const primary = join(dir, `primary-${n}`);
    const copy = live(localDestination('second', blocked));
    const data = randomBytes(3 * 1024 * 1024);
    await feed(teeTarget(await fileTarget(primary), [copy], FOLDER, 'database.sql'), data);
    assert.equal(sha(readFileSync(primary)), sha(data));
    assert.notEqual(copy.failure, undefined);
  });

  test('aborted (the dump failed): nothing is left at the destination, not even a temporary file', async () => {
    const primary = join(dir, `primary-${++n}`);
    const second = join(dir, `second-${n}`);
    const copy = live(localDestination('second', second));
    const tee = teeTarget(await fileTarget(primary), [copy], FOLDER, 'database.sql');
    await tee.write(randomBytes(4 * 1024 * 1024));
    await tee.abort();
    assert.deepEqual(everything(second), []);
    assert.deepEqual(copy.sent, {});
  });
});

describe("a directory-format dump's files, streamed as they are written", () => {
  test('a file that grows again after it looked complete was streamed short: its checksum says so, and the copy after the dump sends it whole', async () => {
    const root = mkdtempSync(join(tmpdir(), 'pgbackman-tree-'));
    try {
      const folder = 'n1/shop/20261203T101500Z-FULL-shop-4f2a9c1e';
      const dump = join(root, folder, 'database.dir');
      mkdirSync(dump, { recursive: true });
      const second = join(root, '..', `${basename(root)}-second`);
      const copy: LiveCopy = {
        name: 'second',
        destination: localDestination('second', second),
        sent: {},
        failure: undefined,
      };
      const streams = treeStreams([copy], folder, 'database.dir');
      const follower = new TreeFollower(dump, streams.streamTo);
      const first = randomBytes(300_000);
      const more = randomBytes(200_000);
      writeFileSync(join(dump, '3001.dat'), first);
      writeFileSync(join(dump, '3002.dat'), more);
      // Idle long enough for the follower to take 3001.dat as complete and end its stream; then it grows.
      await new Promise((r) => setTimeout(r, 400));
      appendFileSync(join(dump, '3001.dat'), more);
      writeFileSync(join(dump, 'toc.dat'), 'toc');
      const finished = await follower.finish();
      await streams.settled();
      copy.destination.close();
      const whole = Buffer.concat([first, more]);
      assert.equal(finished.files['3001.dat'], sha(whole));
      assert.equal(copy.sent['database.dir/3001.dat']?.sha256, sha(first), 'streamed short, as it was then');
      assert.equal(copy.sent['database.dir/3002.dat']?.sha256, sha(more));

      const outcomes = await copyDump({
        runId: '4f2a9c1e-0000-4000-8000-000000000000',
        root,
        dir: join(root, folder),
        recorded: { 'database.dir': finished.files },
        destinations: [{ name: 'second', local: { path: second } }],
        allowed: parseAllowedDestinations([second]),
        streamed: new Map([['second', copy.sent]]),
        env: {},
        secretsDir: root,
      });
      assert.deepEqual(
        outcomes.map((o) => `${o.destination}=${o.status}`),
        ['second=COPIED'],
        JSON.stringify(outcomes),
      );
      assert.ok(readFileSync(join(second, folder, 'database.dir', '3001.dat')).equals(whole));
      assert.ok(readFileSync(join(second, folder, 'database.dir', '3002.dat')).equals(more));
      rmSync(second, { recursive: true, force: true });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
