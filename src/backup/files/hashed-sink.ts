import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { type FileHandle, mkdtemp, open, rm } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WrittenFile } from './hashed-file.ts';

/** How much is read from the tool at a time, into one buffer reused for the whole dump. */
const CHUNK = 256 * 1024;
/** Each of the two write buffers: a write starts when one is half full, so writes are few and large. */
const WRITE = 2 * 1024 * 1024;

/** Where a tool's stdout goes: hashed and written to a file, through one reused buffer. */
export interface HashedSink {
  /** The tool's end: give it to `spawnTool` as the child's stdout (which then drops the parent's copy). */
  readonly stdout: Socket;
  /** Resolves once the tool's output has ended and is written and synced; rejects when writing fails. */
  readonly done: Promise<WrittenFile>;
  /**
   * Gives up (the tool failed): stops reading and closes the file. Returns the error writing the file hit, if
   * any: the tool's failure (a broken pipe) is then only its consequence, and this is the one to report.
   */
  abort(): Promise<Error | undefined>;
}

/**
 * A connected pair of Unix sockets: the tool writes to one end, and pgbackman reads the other with `onread`
 * into a single buffer, hashes each chunk and copies it into one of two write buffers, written to `path`
 * in turn. Unlike a stream, which allocates a buffer per read, memory stays the same however large the
 * dump, and reading pauses only when both write buffers are full.
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
    // Two write buffers: one fills from the socket while the other is being written.
    const bufs = [Buffer.allocUnsafe(WRITE), Buffer.allocUnsafe(WRITE)] as const;
    let cur: 0 | 1 = 0;
    let fill = 0;
    let bytes = 0;
    let inFlight: Promise<void> | undefined;
    let failure: Error | undefined;
    let pending: Uint8Array | undefined; // a chunk still in the read buffer, reading paused until it is taken
    const startWrite = () => {
      const data = bufs[cur].subarray(0, fill);
      cur = cur === 0 ? 1 : 0;
      fill = 0;
      inFlight = writeAll(file, data).then(
        () => {
          inFlight = undefined;
          if (pending === undefined) return;
          const chunk = pending;
          pending = undefined;
          startWrite();
          take(chunk);
          reader.resume();
        },
        (err: Error) => {
          inFlight = undefined;
          failure = err;
          reader.destroy(err);
        },
      );
    };
    const take = (chunk: Uint8Array) => {
      bufs[cur].set(chunk, fill);
      fill += chunk.length;
      if (fill >= WRITE / 2 && inFlight === undefined) startWrite();
    };
    const accepted = once(server, 'connection') as Promise<[Socket]>;
    const reader: Socket = connect({
      path: address,
      onread: {
        buffer,
        callback(n: number, buf: Uint8Array) {
          const chunk = buf.subarray(0, n);
          hash.update(chunk);
          bytes += n;
          if (fill + n > WRITE) {
            // Both buffers busy: reading pauses (the chunk stays in the read buffer) until the write ends.
            if (inFlight !== undefined) {
              pending = chunk;
              return false;
            }
            startWrite();
          }
          take(chunk);
          return true;
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
        while (inFlight !== undefined) await inFlight;
        if (failure !== undefined) throw failure;
        if (fill > 0) await writeAll(file, bufs[cur].subarray(0, fill));
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
        toolEnd.destroy(); // in case the tool never started and spawnTool did not take it
        reader.destroy();
        await done.catch(() => undefined);
        return failure;
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

async function writeAll(file: FileHandle, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += (await file.write(data, off, data.length - off)).bytesWritten;
}
