import { createHash } from 'node:crypto';
import { open, writeFile } from 'node:fs/promises';

export interface WrittenFile {
  readonly bytes: number;
  readonly sha256: string;
}

/** Writes a small file (mode 0600) and returns the size and sha256 of what was written, from memory. */
export async function writeSmall(path: string, content: string | Uint8Array): Promise<WrittenFile> {
  const data = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  await writeFile(path, data, { mode: 0o600 });
  return { bytes: data.length, sha256: createHash('sha256').update(data).digest('hex') };
}

/** The size of each read of hashFile: large enough that reads and promises cost little beside the hash itself. */
export const HASH_READ_BYTES = 1024 * 1024;

/**
 * Hashes a file that another program wrote (directory-format dumps, roles, config; a dump re-hashed before a
 * restore or by verify). Two reused buffers: the next read runs in libuv's pool while the last one is hashed
 * here, so a file in the page cache is hashed at about OpenSSL's speed (a stream of 64 KiB chunks, each a new
 * Buffer, took twice as long on a 219 MiB dump).
 */
export async function hashFile(path: string, signal?: AbortSignal): Promise<WrittenFile> {
  const hash = createHash('sha256');
  const handle = await open(path, 'r');
  try {
    let reading = Buffer.allocUnsafe(HASH_READ_BYTES);
    let spare = Buffer.allocUnsafe(HASH_READ_BYTES);
    let bytes = 0;
    let pending = handle.read(reading, 0, HASH_READ_BYTES, bytes);
    for (;;) {
      // Only one read is ever outstanding, into the buffer that is not being hashed.
      const { bytesRead } = await pending;
      if (bytesRead === 0) break;
      signal?.throwIfAborted();
      const full = reading;
      bytes += bytesRead;
      [reading, spare] = [spare, full];
      pending = handle.read(reading, 0, HASH_READ_BYTES, bytes);
      hash.update(full.subarray(0, bytesRead));
    }
    return { bytes, sha256: hash.digest('hex') };
  } finally {
    await handle.close();
  }
}

/** Flushes a file or directory to disk (a directory's fsync makes its renames and new entries durable). */
export async function fsync(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
