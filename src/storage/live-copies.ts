import type { FileStream } from '../backup/files/follow-tree.ts';
import type { ByteTarget } from '../backup/files/hashed-sink.ts';
import type { CopiedFile } from '../catalogue/dump-copies.ts';
import { messageOf } from '../errors.ts';
import type { StorageDestination } from '../manifest/generated/manifest-types.ts';
import { type AllowedDestination, isAllowed } from './allowed-destinations.ts';
import type { Destination } from './destination.ts';
import { Handoff } from './handoff.ts';
import { openDestination } from './open-destination.ts';

/** A destination that takes no byte for this long is dropped from the dump, which goes on without it. */
const STALL_MS = 120_000;

/** A destination receiving the dump while pg_dump writes it; what arrived, or why it stopped. */
export interface LiveCopy {
  readonly name: string;
  readonly destination: Destination;
  /** How large the dump may grow (its database's size), to size an upload's parts; unknown for a cluster. */
  readonly expectedBytes?: number | undefined;
  /** The streamed files that arrived whole, by their path in the dump folder. */
  readonly sent: Record<string, CopiedFile>;
  /** Why streaming to it stopped; the copy after the dump then sends those files from the root. */
  failure: string | undefined;
}

/**
 * The further destinations a dump can stream to as it is written: allowed by the operator, with readable
 * credentials. Any other is left to the copy after the dump, which records why it failed.
 */
export function openLiveCopies(
  destinations: readonly StorageDestination[],
  o: {
    allowed: readonly AllowedDestination[];
    env: NodeJS.ProcessEnv;
    secretsDir: string;
    expectedBytes?: number | undefined;
  },
): LiveCopy[] {
  const live: LiveCopy[] = [];
  for (const d of destinations) {
    if (!isAllowed(o.allowed, d as Parameters<typeof isAllowed>[1])) continue;
    try {
      live.push({
        name: d.name,
        destination: openDestination(d, o.env, o.secretsDir),
        expectedBytes: o.expectedBytes,
        sent: {},
        failure: undefined,
      });
    } catch {
      // Unreadable credentials: the copy after the dump says so, in the copy's record.
    }
  }
  return live;
}

export function closeLiveCopies(live: readonly LiveCopy[]): void {
  for (const l of live) l.destination.close();
}

/**
 * The file's bytes to `primary` and, as they pass, to each live copy under `key` (`folder/file`). A copy that
 * fails or stalls is dropped and never fails or stops the primary; `finish` waits for each upload to
 * complete and records what arrived. `abort` cancels every upload (a multipart upload is aborted), and so
 * does `signal` (the run stopped): an upload a store holds unanswered never holds the run past it.
 */
export function teeTarget(
  primary: ByteTarget,
  live: readonly LiveCopy[],
  folder: string,
  file: string,
  signal?: AbortSignal,
): ByteTarget {
  const uploads = live.filter((l) => l.failure === undefined).map((l) => upload(l, folder, file, signal));
  return {
    async write(data) {
      // The sink reuses its buffer once this resolves: every upload has taken the bytes by then.
      await Promise.all([primary.write(data), ...uploads.map((u) => u.write(data))]);
    },
    async finish() {
      await primary.finish();
      for (const u of uploads) await u.end();
    },
    async abort() {
      for (const u of uploads) u.cancel();
      await primary.abort();
      await Promise.all(uploads.map((u) => u.settled));
    },
  };
}

/** At most this many files of a directory-format dump stream at once (pg_dump -j writes several). */
const LIVE_FILES = 4;

/** A directory-format dump's files, each streamed to the live copies as pg_dump writes it. */
export interface TreeStreams {
  /** The stream for the file `name` of the dump directory; undefined once LIVE_FILES are open (sent later). */
  streamTo(name: string): FileStream | undefined;
  /** Waits for every stream that ended to complete (or fail) and records what arrived. */
  settled(): Promise<void>;
}

/**
 * Streams each file of the dump directory `dirName` to every live copy under `folder/dirName/name` as the
 * follower reads it. A file that arrives whole is recorded in the copy's `sent` with what the store stored;
 * the copy after the dump sends, from the root, each file not sent or sent short (its checksum differs).
 */
export function treeStreams(
  live: readonly LiveCopy[],
  folder: string,
  dirName: string,
  signal?: AbortSignal,
): TreeStreams {
  const ending: Promise<void>[] = [];
  let open = 0;
  return {
    streamTo(name) {
      const copies = live.filter((l) => l.failure === undefined);
      if (copies.length === 0 || open >= LIVE_FILES) return undefined;
      open++;
      const uploads = copies.map((l) => upload(l, folder, `${dirName}/${name}`, signal));
      let done = false;
      const close = () => {
        if (done) return false;
        done = true;
        open--;
        return true;
      };
      return {
        async write(data) {
          await Promise.all(uploads.map((u) => u.write(data)));
        },
        end() {
          if (close()) ending.push(...uploads.map((u) => u.end()));
        },
        abort() {
          if (!close()) return;
          for (const u of uploads) u.cancel();
          ending.push(...uploads.map((u) => u.settled.then(() => undefined)));
        },
      };
    },
    async settled() {
      while (ending.length > 0) await Promise.all(ending.splice(0));
    },
  };
}

/**
 * One file's upload to one live copy. It never throws: a write or an end that fails drops the copy from the
 * dump's streaming (its `failure` says why; the copy after the dump sends its files from the root), and an
 * end that succeeds records the file in the copy's `sent`.
 */
interface Upload {
  write(data: Uint8Array): Promise<void>;
  end(): Promise<void>;
  cancel(): void;
  readonly settled: Promise<unknown>;
}

function upload(copy: LiveCopy, folder: string, file: string, signal: AbortSignal | undefined): Upload {
  // No copy of the bytes: the writer's buffer is handed over, and reused once the store has taken them.
  const body = new Handoff();
  const put = copy.destination.put(`${folder}/${file}`, body, signal, copy.expectedBytes);
  const settled = put.then(
    () => undefined,
    (err: unknown) => err,
  );
  // A put that fails while bytes still come: the next write says so instead of waiting on the store.
  const failed = settled.then((err) => {
    if (err !== undefined) throw err;
  });
  failed.catch(() => undefined);
  const cancel = () => {
    body.destroy(new Error('the dump failed: this copy was abandoned'));
  };
  // The run stopped: a put waiting for bytes is not left waiting.
  signal?.addEventListener('abort', cancel, { once: true });
  settled.then(() => signal?.removeEventListener('abort', cancel));
  const drop = (err: unknown) => {
    if (copy.failure === undefined) copy.failure = `streaming ${file}: ${messageOf(err)}`;
    cancel();
  };
  const write = async (data: Uint8Array) => {
    let timer: NodeJS.Timeout | undefined;
    const stalled = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`it took no data for ${STALL_MS / 1000} s`)), STALL_MS);
    });
    try {
      // A consumer that stopped reading failed its put: that failure, not the handoff's, is the reason.
      const taken = body.write(data).catch(async (err: unknown) => {
        throw body.consumerStopped ? ((await settled) ?? err) : err;
      });
      taken.catch(() => undefined);
      await Promise.race([taken, failed, stalled]);
    } finally {
      clearTimeout(timer);
    }
  };
  return {
    async write(data) {
      if (copy.failure !== undefined) return;
      await write(data).catch(drop);
    },
    async end() {
      // The copy was dropped (by this file or another): its upload is abandoned, never left waiting for bytes.
      if (copy.failure !== undefined) {
        cancel();
        return;
      }
      body.end();
      try {
        const stored = await put;
        copy.sent[file] = {
          bytes: stored.bytes,
          sha256: stored.sha256,
          etag: stored.etag,
          versionId: stored.versionId,
        };
      } catch (err) {
        drop(err);
      }
    },
    cancel,
    settled,
  };
}
