import { createHash, type Hash } from 'node:crypto';
import { type FileHandle, open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PgbackmanError } from '../../errors.ts';

/** Where a followed file's bytes also go as they are read (an upload per further destination). */
export interface FileStream {
  /** Done with `data` once it resolves (the follower reuses its buffer). */
  write(data: Uint8Array): Promise<void>;
  /** The file looks complete (idle, or the writer exited): the stream ends; bytes read later are not sent. */
  end(): void;
  /** The dump failed: what was sent is abandoned. */
  abort(): void;
}

interface Followed {
  /** Open while the file is being written; closed (null) once it has been idle, reopened to catch up. */
  handle: FileHandle | null;
  /** Its live stream, until the file is first closed as idle. */
  stream: FileStream | undefined;
  readonly hash: Hash;
  readonly ino: number;
  bytes: number;
  idlePasses: number;
}

const CHUNK = 1024 * 1024;
const IDLE_MS = 20;
/** A file that has not grown for this many passes is done being written (pg_dump moved on): closed. */
const IDLE_PASSES_TO_CLOSE = 3;
/** Never more open files than this, whatever the number of tables: the oldest idle ones are closed first. */
const MAX_OPEN = 32;

/**
 * Hashes the files another program writes into a directory (pg_dump's directory format) while it writes
 * them: each file is followed from where the last read stopped, so its bytes are read once, from the page
 * cache, alongside the dump instead of after it. pg_dump only appends to these files; `finish()` checks that
 * each file is still the one that was read and ends where its hash does (a rewrite that kept the length is
 * the one change it could not see, and pg_dump does not make it).
 */
export class TreeFollower {
  readonly #dir: string;
  readonly #files = new Map<string, Followed>();
  readonly #skipped = new Set<string>();
  readonly #buffer = Buffer.allocUnsafe(CHUNK);
  readonly #streamTo: ((name: string) => FileStream | undefined) | undefined;
  #stopped = false;
  readonly #loop: Promise<void>;

  /**
   * `streamTo`, when given, is asked for a stream per file as the file appears: its bytes go there as they are
   * read. A file that grows again after it looked complete has a stream that ended short; its checksum at
   * the end says so, and whoever records the copy sends it again whole.
   */
  constructor(dir: string, streamTo?: (name: string) => FileStream | undefined) {
    this.#dir = dir;
    this.#streamTo = streamTo;
    this.#loop = this.#follow();
    this.#loop.catch(() => undefined);
  }

  /** Reads what is left once the writer has exited, syncs every file, and returns their hashes and sizes. */
  async finish(): Promise<{
    bytes: number;
    files: Record<string, string>;
    sizes: Record<string, number>;
  }> {
    this.#stopped = true;
    try {
      await this.#loop;
      await this.#pass();
      const files: Record<string, string> = {};
      const sizes: Record<string, number> = {};
      let bytes = 0;
      for (const [name, f] of [...this.#files].sort(([a], [b]) => (a < b ? -1 : 1))) {
        await this.#catchUp(name, f);
        f.stream?.end();
        f.stream = undefined;
        const handle = f.handle as FileHandle;
        await handle.sync();
        await this.#closeHandle(f);
        files[name] = f.hash.digest('hex');
        sizes[name] = f.bytes;
        bytes += f.bytes;
      }
      const dir = await open(this.#dir, 'r');
      await dir.sync().finally(() => dir.close());
      return { bytes, files, sizes };
    } finally {
      await this.close();
    }
  }

  /** Stops following and closes every file (a failed dump: nothing is returned). */
  async close(): Promise<void> {
    this.#stopped = true;
    await this.#loop.catch(() => undefined);
    for (const f of this.#files.values()) {
      f.stream?.abort();
      f.stream = undefined;
    }
    await Promise.all([...this.#files.values()].map((f) => this.#closeHandle(f)));
    this.#files.clear();
  }

  async #follow(): Promise<void> {
    while (!this.#stopped) if ((await this.#pass()) === 0) await sleep(IDLE_MS);
  }

  /** One sweep: new files are opened, open files read to their current end. Returns the bytes read. */
  async #pass(): Promise<number> {
    let names: string[];
    try {
      names = await readdir(this.#dir);
    } catch {
      return 0; // the writer has not created the directory yet
    }
    let read = 0;
    for (const name of names) {
      if (this.#skipped.has(name) || this.#files.get(name)?.handle === null) continue;
      const f = this.#files.get(name) ?? (await this.#start(name));
      if (f === undefined) continue;
      const n = await this.#readToEnd(f);
      read += n;
      f.idlePasses = n === 0 ? f.idlePasses + 1 : 0;
      if (f.idlePasses >= IDLE_PASSES_TO_CLOSE) await this.#closeHandle(f);
    }
    return read;
  }

  async #start(name: string): Promise<Followed | undefined> {
    const open_ = [...this.#files.values()].filter((f) => f.handle !== null);
    if (open_.length >= MAX_OPEN) {
      const idlest = open_.sort((a, b) => b.idlePasses - a.idlePasses)[0];
      if (idlest !== undefined) await this.#closeHandle(idlest);
    }
    const handle = await open(join(this.#dir, name), 'r');
    const s = await handle.stat();
    if (!s.isFile()) {
      this.#skipped.add(name);
      await handle.close();
      return undefined;
    }
    const f: Followed = {
      handle,
      stream: this.#streamTo?.(name),
      hash: createHash('sha256'),
      ino: s.ino,
      bytes: 0,
      idlePasses: 0,
    };
    this.#files.set(name, f);
    return f;
  }

  /** Reopens a closed file where its hash stopped, checks it is the same file, and reads the rest. */
  async #catchUp(name: string, f: Followed): Promise<void> {
    if (f.handle === null) f.handle = await open(join(this.#dir, name), 'r');
    await this.#readToEnd(f);
    const now = await stat(join(this.#dir, name));
    if (now.ino !== f.ino || now.size !== f.bytes)
      throw new PgbackmanError('IO', `${name} changed after it was read: its checksum would be wrong`);
  }

  async #readToEnd(f: Followed): Promise<number> {
    const handle = f.handle as FileHandle;
    let read = 0;
    for (;;) {
      const { bytesRead } = await handle.read(this.#buffer, 0, CHUNK, f.bytes);
      if (bytesRead === 0) return read;
      const chunk = this.#buffer.subarray(0, bytesRead);
      f.hash.update(chunk);
      await f.stream?.write(chunk);
      f.bytes += bytesRead;
      read += bytesRead;
      if (bytesRead < CHUNK) return read;
    }
  }

  async #closeHandle(f: Followed): Promise<void> {
    const handle = f.handle;
    f.handle = null;
    f.stream?.end();
    f.stream = undefined;
    await handle?.close().catch(() => undefined);
  }
}
