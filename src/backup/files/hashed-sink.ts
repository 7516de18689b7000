import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { type FileHandle, mkdtemp, open, rm } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GarbagePacer } from '../../system/garbage-pacer.ts';
import type { WrittenFile } from './hashed-file.ts';

/** How much is read from the tool at a time, into one buffer reused for the whole dump. */
const CHUNK = 256 * 1024;
/** Each of the two write buffers: a write starts when one is half full, so writes are few and large. */
const WRITE = 2 * 1024 * 1024;

/**
 * Where the sink's bytes go: a file today; an encryption stage or an upload wraps or replaces it. `write`
 * must be done with `data` when its promise resolves (the sink reuses the buffer); `finish` makes the
 * bytes durable; `abort` gives up and leaves nothing that looks complete.
 */
export interface ByteTarget {
  write(data: Uint8Array): Promise<void>;
  finish(): Promise<void>;
  abort(): Promise<void>;
}

/** A new file (never an existing one: `wx`, mode 0600), synced by `finish`. */
export async function fileTarget(path: string): Promise<ByteTarget> {
  const file = await open(path, 'wx', 0o600);
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await file.close();
  };
  return {
    write: (data) => writeAll(file, data),
    async finish() {
      try {
        await file.sync();
      } finally {
        await close();
      }
    },
    abort: () => close().catch(() => undefined),
  };
}

/** Where a tool's stdout goes: hashed and written to a target, through one reused buffer. */
export interface HashedSink {
  /** The tool's end: give it to `spawnTool` as the child's stdout (which then drops the parent's copy). */
  readonly stdout: Socket;
  /** Resolves once the tool's output has ended and every byte is handed to the target; rejects when writing fails. */
  readonly done: Promise<WrittenFile>;
  /** The tool succeeded: the target makes its bytes durable (a file is synced, an upload completed). */
  commit(): Promise<void>;
  /**
   * Gives up (the tool failed): stops reading, and the target leaves nothing that looks complete. Returns the
   * error writing hit, if any: the tool's failure (a broken pipe) is then only its consequence, and this is
   * the one to report.
   */
  abort(): Promise<Error | undefined>;
}

/**
 * A connected pair of Unix sockets: the tool writes to one end, and pgbackman reads the other with `onread`
 * into a single buffer, hashes each chunk and copies it into one of two write buffers, written to `path`
 * in turn. Unlike a stream, which allocates a buffer per read, memory stays the same however large the
 * dump, and reading pauses only when both write buffers are full. The hash is of the tool's own bytes
 * (what a restore gets back), whatever the target does with them.
 */
export async function openHashedSink(to: string | ByteTarget): Promise<HashedSink> {
  const dir = await mkdtemp(join(tmpdir(), 'pgbackman-sink-'));
  const server = createServer();
  let out: ByteTarget | undefined;
  try {
    const address = join(dir, 'stdout.sock');
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(address, resolve);
    });
    out = typeof to === 'string' ? await fileTarget(to) : to;
    const target = out;
    const hash = createHash('sha256');
    const buffer = Buffer.allocUnsafe(CHUNK);
    // Two write buffers: one fills from the socket while the other is being written.
    const bufs = [Buffer.allocUnsafe(WRITE), Buffer.allocUnsafe(WRITE)] as const;
    let cur: 0 | 1 = 0;
    let fill = 0;
    let bytes = 0;
    let inFlight: Promise<void> | undefined;
    let failure: Error | undefined;
    let aborted = false;
    let pending: Uint8Array | undefined; // a chunk still in the read buffer, reading paused until it is taken
    const pacer = new GarbagePacer();
    const startWrite = () => {
      const data = bufs[cur].subarray(0, fill);
      // What the target allocates per write (sealed chunks, an upload's parts) is freed as the dump goes.
      pacer.passed(fill);
      cur = cur === 0 ? 1 : 0;
      fill = 0;
      inFlight = target.write(data).then(
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
        // Given up: the target is told so (an upload is cancelled), never finished.
        if (aborted) throw new Error('the tool failed: its output was abandoned');
        if (fill > 0) await target.write(bufs[cur].subarray(0, fill));
        return { bytes, sha256: hash.digest('hex') };
      } catch (err) {
        await target.abort();
        throw err;
      }
    })();
    done.catch(() => undefined);
    return {
      stdout: toolEnd,
      done,
      commit: async () => {
        await done;
        await target.finish();
      },
      abort: async () => {
        if (aborted) return failure;
        aborted = true;
        toolEnd.destroy(); // in case the tool never started and spawnTool did not take it
        reader.destroy();
        // An output that had already ended was not aborted by done: the target is told here.
        if (
          await done.then(
            () => true,
            () => false,
          )
        )
          await target.abort();
        return failure;
      },
    };
  } catch (err) {
    await out?.abort();
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
