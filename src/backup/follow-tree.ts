import { createHash, type Hash } from 'node:crypto';
import { type FileHandle, open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PgbackmanError } from '../errors.ts';

interface Followed {
  readonly handle: FileHandle;
  readonly hash: Hash;
  readonly ino: number;
  bytes: number;
}

const CHUNK = 1024 * 1024;
const IDLE_MS = 20;

/**
 * Hashes the files another program writes into a directory (pg_dump's directory format) while it writes
 * them: each file is followed from where the last read stopped, so its bytes are read once, from the page
 * cache, alongside the dump instead of after it. pg_dump only appends to these files; `finish()` checks that
 * each file ends where its hash does and is still the file that was read, so a rewrite cannot go unnoticed.
 */
export class TreeFollower {
  readonly #dir: string;
  readonly #files = new Map<string, Followed>();
  readonly #skipped = new Set<string>();
  readonly #buffer = Buffer.allocUnsafe(CHUNK);
  #stopped = false;
  readonly #loop: Promise<void>;

  constructor(dir: string) {
    this.#dir = dir;
    this.#loop = this.#follow();
    this.#loop.catch(() => undefined);
  }

  /** Reads what is left once the writer has exited, syncs every file, and returns their hashes and total size. */
  async finish(): Promise<{ bytes: number; files: Record<string, string> }> {
    this.#stopped = true;
    try {
      await this.#loop;
      await this.#pass();
      const files: Record<string, string> = {};
      let bytes = 0;
      for (const [name, f] of [...this.#files].sort(([a], [b]) => (a < b ? -1 : 1))) {
        const now = await stat(join(this.#dir, name));
        if (now.ino !== f.ino || now.size !== f.bytes)
          throw new PgbackmanError('IO', `${name} changed after it was read: its checksum would be wrong`);
        await f.handle.sync();
        files[name] = f.hash.digest('hex');
        bytes += f.bytes;
      }
      const dir = await open(this.#dir, 'r');
      await dir.sync().finally(() => dir.close());
      return { bytes, files };
    } finally {
      await this.close();
    }
  }

  /** Stops following and closes every file (a failed dump: nothing is returned). */
  async close(): Promise<void> {
    this.#stopped = true;
    await this.#loop.catch(() => undefined);
    await Promise.all([...this.#files.values()].map((f) => f.handle.close().catch(() => undefined)));
    this.#files.clear();
  }

  async #follow(): Promise<void> {
    while (!this.#stopped) if ((await this.#pass()) === 0) await sleep(IDLE_MS);
  }

  /** One sweep: new files are opened, every file is read to its current end. Returns the bytes read. */
  async #pass(): Promise<number> {
    let names: string[];
    try {
      names = await readdir(this.#dir);
    } catch {
      return 0; // the writer has not created the directory yet
    }
    let read = 0;
    for (const name of names) {
      if (this.#skipped.has(name)) continue;
      let f = this.#files.get(name);
      if (f === undefined) {
        const handle = await open(join(this.#dir, name), 'r');
        const s = await handle.stat();
        if (!s.isFile()) {
          this.#skipped.add(name);
          await handle.close();
          continue;
        }
        f = { handle, hash: createHash('sha256'), ino: s.ino, bytes: 0 };
        this.#files.set(name, f);
      }
      for (;;) {
        const { bytesRead } = await f.handle.read(this.#buffer, 0, CHUNK, f.bytes);
        if (bytesRead === 0) break;
        f.hash.update(this.#buffer.subarray(0, bytesRead));
        f.bytes += bytesRead;
        read += bytesRead;
        if (bytesRead < CHUNK) break;
      }
    }
    return read;
  }
}
