import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, describe, test } from 'node:test';
import { ageDecryptor, ageEncryptor } from '../../src/encryption/age-stream.ts';
import { rejection } from '../support/rejection.ts';

// Debian's age (the reference implementation, installed by .ci/run) makes the keys and checks the files.
const dir = mkdtempSync(join(tmpdir(), 'pgbackman-age-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function keyPair(name: string): { identity: string; recipient: string; file: string } {
  const file = join(dir, `${name}.key`);
  execFileSync('age-keygen', ['-o', file], { stdio: 'ignore' });
  const identity = (readFileSync(file, 'utf8').match(/^AGE-SECRET-KEY-1\S+$/m) ?? [])[0] as string;
  const recipient = execFileSync('age-keygen', ['-y', file], { encoding: 'utf8' }).trim();
  return { identity, recipient, file };
}
const alice = keyPair('alice');
const bob = keyPair('bob');

/** `data` through a transform, fed in pieces of `piece` bytes, collected. */
async function through(t: Transform, data: Buffer, piece = 100_000): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for (let at = 0; at < data.length; at += piece) pieces.push(data.subarray(at, at + piece));
  const out: Buffer[] = [];
  await pipeline(Readable.from(pieces), t, async (source: AsyncIterable<Buffer>) => {
    for await (const c of source) out.push(c);
  });
  return Buffer.concat(out);
}

const K = 64 * 1024;

describe('age encryption: the format `age` reads and writes, sealed by OpenSSL', () => {
  for (const size of [0, 1, K - 1, K, K + 1, 2 * K, 3 * K + 5, 1024 * 1024 + 7]) {
    test(`${size} bytes: age -d opens what pgbackman sealed, and pgbackman opens what age -e sealed`, async () => {
      const plain = randomBytes(size);
      const sealed = await through(await ageEncryptor([alice.recipient]), plain, 70_001);
      const sealedFile = join(dir, `ours-${size}.age`);
      writeFileSync(sealedFile, sealed);
      assert.deepEqual(
        execFileSync('age', ['-d', '-i', alice.file, sealedFile], { maxBuffer: 64 * 1024 ** 2 }),
        plain,
      );

      const plainFile = join(dir, `plain-${size}`);
      writeFileSync(plainFile, plain);
      const theirs = execFileSync('age', ['-r', alice.recipient, plainFile], { maxBuffer: 64 * 1024 ** 2 });
      assert.deepEqual(await through(ageDecryptor([alice.identity]), theirs, 9_999), plain);
    });
  }

  test('no byte of the plaintext shows in what is sealed', async () => {
    const row = 'INSERT INTO customers VALUES (42, alice@example.org, 4111-1111-1111-1111);\n';
    const sealed = await through(await ageEncryptor([alice.recipient]), Buffer.from(row.repeat(5000)));
    for (const needle of ['alice@example.org', '4111-1111', 'INSERT INTO', 'customers'])
      assert.equal(sealed.includes(needle), false, needle);
  });

  test('several recipients: each one alone opens it', async () => {
    const plain = randomBytes(200_000);
    const sealed = await through(await ageEncryptor([alice.recipient, bob.recipient]), plain);
    const file = join(dir, 'both.age');
    writeFileSync(file, sealed);
    assert.deepEqual(execFileSync('age', ['-d', '-i', bob.file, file]), plain);
    assert.deepEqual(await through(ageDecryptor([alice.identity]), sealed), plain);
  });

  test('the wrong key is refused by name, before any plaintext', async () => {
    const sealed = await through(await ageEncryptor([alice.recipient]), randomBytes(300_000));
    const err = await rejection(through(ageDecryptor([bob.identity]), sealed));
    assert.equal(err.code, 'INVALID_INPUT');
    assert.equal(
      err.message,
      'none of the 1 age identity given can decrypt it: it was encrypted for other recipients',
    );
  });

  test('a changed byte, a cut-short file or a dropped last chunk fails: no unauthenticated plaintext', async () => {
    const plain = randomBytes(3 * K + 100);
    const sealed = await through(await ageEncryptor([alice.recipient]), plain);
    const changed = Buffer.from(sealed);
    const at = changed.length - 5_000; // inside the third of four chunks
    changed.writeUInt8(changed.readUInt8(at) ^ 1, at);
    const cases: [string, Buffer, RegExp][] = [
      ['a changed byte', changed, /changed or cut short \(chunk 2 failed authentication\)/],
      ['cut inside the last chunk', sealed.subarray(0, sealed.length - 40), /changed or cut short/],
      ['the last chunk dropped', sealed.subarray(0, sealed.length - (100 + 16)), /changed or cut short/],
      ['cut inside the header', sealed.subarray(0, 40), /changed or cut short \(it ends inside its header\)/],
    ];
    for (const [what, bytes, message] of cases) {
      const err = await rejection(through(ageDecryptor([alice.identity]), bytes));
      assert.equal(err.code, 'INVALID_INPUT', what);
      assert.match(err.message, message, what);
    }
  });

  test('a recipient that is not one is refused, naming it', async () => {
    const err = await rejection(ageEncryptor(['age1notarecipient']));
    assert.equal(err.code, 'INVALID_INPUT');
    assert.match(err.message, /^age recipient "age1notarecipient": /);
    assert.equal((await rejection(ageEncryptor([]))).message, 'age encryption needs at least one recipient');
  });
});
