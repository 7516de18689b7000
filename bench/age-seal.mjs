// The encryption benchmark's pgbackman side, one whole process per run, with pgbackman's own code from dist/:
//   node bench/age-seal.mjs seal RECIPIENT IN OUT   IN sealed for RECIPIENT (age1…) into OUT, a new file
//   node bench/age-seal.mjs floor IN OUT            the same reads and writes with no sealing: the floor
//   node bench/age-seal.mjs open KEY_FILE IN OUT    IN (an age file, named *.age) decrypted into OUT
// `seal` is what `pgbackman run` does with pg_dump's output when a definition has `encryption`:
// `encryptedTarget(await fileTarget(OUT), [RECIPIENT])` is handed the bytes in chunks of up to 2 MiB from one
// reused buffer (as the hashed sink hands them over), then `finish()` (the last chunk, and the file synced).
// `open` is what a restore reads an encrypted dump with: `openDumpFile` (createReadStream piped through
// `ageDecryptor`) with the identities `readIdentities` finds in KEY_FILE, here piped into a new file.
// Prints `BYTES_IN bytes in, BYTES_OUT bytes out`.
import { createWriteStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { fileTarget } from '../dist/backup/files/hashed-sink.js';
import { readIdentities } from '../dist/encryption/age-keys.js';
import { encryptedTarget } from '../dist/encryption/encrypted-target.js';
import { openDumpFile } from '../dist/encryption/read-encrypted.js';

/** The most the hashed sink hands its target at once (one of its two write buffers). */
const CHUNK = 2 * 1024 * 1024;

const usage = 'usage: age-seal.mjs seal RECIPIENT IN OUT | floor IN OUT | open KEY_FILE IN OUT';
const [mode, ...args] = process.argv.slice(2);

/** Reads `path` into `target` through one reused buffer; returns the bytes read. */
async function feed(path, target) {
  const input = await open(path, 'r');
  const buffer = Buffer.allocUnsafe(CHUNK);
  let bytes = 0;
  try {
    for (;;) {
      const { bytesRead } = await input.read(buffer, 0, CHUNK, null);
      if (bytesRead === 0) break;
      bytes += bytesRead;
      await target.write(buffer.subarray(0, bytesRead));
    }
    await target.finish();
  } catch (err) {
    await target.abort();
    throw err;
  } finally {
    await input.close();
  }
  return bytes;
}

if (mode === 'seal' && args.length === 3) {
  const [recipient, from, to] = args;
  const target = await encryptedTarget(await fileTarget(to), [recipient]);
  const bytes = await feed(from, target);
  process.stdout.write(`${bytes} bytes in, ${target.stored().bytes} bytes out\n`);
} else if (mode === 'floor' && args.length === 2) {
  const [from, to] = args;
  const bytes = await feed(from, await fileTarget(to));
  process.stdout.write(`${bytes} bytes in, ${bytes} bytes out\n`);
} else if (mode === 'open' && args.length === 3) {
  const [keyFile, from, to] = args;
  const identities = await readIdentities({ file: keyFile });
  await pipeline(openDumpFile(from, identities), createWriteStream(to, { flags: 'wx', mode: 0o600 }));
  process.stdout.write(`${(await stat(from)).size} bytes in, ${(await stat(to)).size} bytes out\n`);
} else {
  process.stderr.write(`${usage}\n`);
  process.exitCode = 2;
}
