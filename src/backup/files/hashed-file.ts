import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, writeFile } from 'node:fs/promises';

export interface WrittenFile {
  readonly bytes: number;
  readonly sha256: string;
}

/** Writes a small text file (mode 0600) and returns the size and sha256 of what was written, from memory. */
export async function writeSmall(path: string, text: string): Promise<WrittenFile> {
  const data = Buffer.from(text, 'utf8');
  await writeFile(path, data, { mode: 0o600 });
  return { bytes: data.length, sha256: createHash('sha256').update(data).digest('hex') };
}

/** Hashes a file that another program wrote (directory-format dumps, roles, config). */
export async function hashFile(path: string): Promise<WrittenFile> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { bytes, sha256: hash.digest('hex') };
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
