import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { type FileHandle, mkdtemp, open, rm } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WrittenFile } from './hashed-file.ts';

/** How much is read from the tool at a time, into one buffer reused for the whole dump. */
const CHUNK = 256 * 1024;

/** Where a tool's stdout goes: hashed and written to a file, through one reused buffer. */
export interface HashedSink {
  /** The tool's end: give it to `spawnTool` as the child's stdout (which then drops the parent's copy). */
  readonly stdout: Socket;
  /** Resolves once the tool's output has ended and is written and synced; rejects when writing fails. */
  readonly done: Promise<WrittenFile>;
  /** Gives up (the tool failed): stops reading and closes the file. */
  abort(): Promise<void>;
}

/**
 * A connected pair of Unix sockets: the tool writes to one end, and pgbackman reads the other with `onread`
 * into a single buffer, hashes each chunk, and writes it to `path` before reading the next. Unlike a
 * stream, which allocates a buffer per read, memory stays the same however large the dump.
 */
export async function openHashedSink(path: string): Promise<HashedSink> {
  const dir = await mkdtemp(join(tmpdir(), 'pgbackman-sink-'));
  const server = createServer();
  let out: FileHandle | undefined;
  try {
    const address = join(dir, 'stdout.sock');
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(address, resolve);
    });
    out = await open(path, 'wx', 0o600);
    const file = out;
    const hash = createHash('sha256');
    const buffer = Buffer.allocUnsafe(CHUNK);
    let bytes = 0;
    let writing: Promise<unknown> = Promise.resolve();
    const accepted = once(server, 'connection') as Promise<[Socket]>;
    const reader: Socket = connect({
      path: address,
      onread: {
        buffer,
        callback(n: number, buf: Uint8Array) {
          const chunk = buf.subarray(0, n);
          hash.update(chunk);
          bytes += n;
          // Reading pauses until the chunk is written: the buffer is reused for the next one.
          writing = file.write(chunk).then(
            () => reader.resume(),
            (err: Error) => reader.destroy(err),
          );
          return false;
        },
      },
    });
    const ended = new Promise<void>((resolve, reject) => {
      reader.once('end', resolve);
      reader.once('error', reject);
      reader.once('close', () => resolve());
    });
    ended.catch(() => undefined);
    const [toolEnd] = await accepted;
    const done = (async () => {
      try {
        await ended;
        await writing;
        await file.sync();
        return { bytes, sha256: hash.digest('hex') };
      } finally {
        await file.close().catch(() => undefined);
      }
    })();
    done.catch(() => undefined);
    return {
      stdout: toolEnd,
      done,
      abort: async () => {
        reader.destroy();
        await done.catch(() => undefined);
      },
    };
  } catch (err) {
    await out?.close().catch(() => undefined);
    throw err;
  } finally {
    // Connected (or failed): the socket's name is no longer needed.
    server.close();
    await rm(dir, { recursive: true, force: true });
  }
}
