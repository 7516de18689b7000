import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { BACKUP_MANIFEST } from '../backup/files/backup-manifest.ts';
import type { CopiedFile, DumpCopy } from '../catalogue/dump-copies.ts';
import { messageOf } from '../errors.ts';
import type { StorageDestination } from '../manifest/generated/manifest-types.ts';
import { type AllowedDestination, isAllowed } from './allowed-destinations.ts';
import type { Destination } from './destination.ts';
import { openDestination } from './open-destination.ts';
import { copyLocation } from './run-destinations.ts';

export interface CopyRequest {
  readonly runId: string;
  /** The server's root directory and the dump's folder under it: keys are the folder's path below the root. */
  readonly root: string;
  readonly dir: string;
  /** The folder's path below the root when `dir` is not there (a copy fetched from another destination). */
  readonly folder?: string;
  /** The run's recorded checksums (file → sha256, or a directory dump's file → sha256 map). */
  readonly recorded: Readonly<Record<string, string | Readonly<Record<string, string>>>>;
  /** The server's destinations after the first (the root directory, where the dump already is). */
  readonly destinations: readonly StorageDestination[];
  readonly allowed: readonly AllowedDestination[];
  /** Files already sent to a destination while the dump was written (by destination, then file): not sent again. */
  readonly streamed?: ReadonlyMap<string, Readonly<Record<string, CopiedFile>>>;
  readonly env: NodeJS.ProcessEnv;
  readonly secretsDir: string;
  readonly signal?: AbortSignal;
}

/** Below this, a file is sent alongside others: one multipart part's worth. */
const SMALL_FILE = 8 * 1024 * 1024;
const SMALL_AT_ONCE = 4;

/** `each` over `items`, at most `n` at a time; the first failure rejects (those under way still finish). */
async function inTurns<T>(items: readonly T[], n: number, each: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await each(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
}

/** Every file of a dump folder, its path inside the folder with `/`, sorted, backup.json last. */
async function filesOf(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join('/'))
    .sort();
  // backup.json describes a complete folder: where it is, every file before it arrived.
  return [...files.filter((f) => f !== BACKUP_MANIFEST), ...files.filter((f) => f === BACKUP_MANIFEST)];
}

/** The sha256 the run recorded for a file of its folder, if it recorded one. */
function recordedSum(recorded: CopyRequest['recorded'], file: string): string | undefined {
  const [top, ...rest] = file.split('/');
  const sum = recorded[top as string];
  return typeof sum === 'string' ? (rest.length === 0 ? sum : undefined) : sum?.[rest.join('/')];
}

/**
 * Sends one file. The stream is opened only after the file was found, and closed whatever the put did with
 * it: a file gone meanwhile is this copy's error, never an unhandled 'error' event that stops the agent.
 */
async function putFile(destination: Destination, key: string, path: string, signal: AbortSignal | undefined) {
  const { size } = await stat(path);
  const stream = createReadStream(path);
  // The put reads the error from the stream itself; this keeps it from being an uncaught 'error' event first.
  stream.on('error', () => undefined);
  try {
    return await destination.put(key, stream, signal, size);
  } finally {
    stream.destroy();
  }
}

/**
 * Copies a finished dump's folder to each further destination, one after the other, and says per
 * destination what arrived or why not. A destination the operator has not allowed, credentials that cannot
 * be read, a store that refuses or cannot be reached: each is that destination's FAILED outcome, never an
 * exception, and never a change to the dump in the root directory.
 */
export async function copyDump(req: CopyRequest): Promise<DumpCopy[]> {
  const folder = req.folder ?? relative(req.root, req.dir).split(sep).join('/');
  const outcomes: DumpCopy[] = [];
  for (const d of req.destinations) {
    const location = copyLocation(d, folder);
    const kind = d.local !== undefined ? 'local' : 's3';
    const base = { runId: req.runId, destination: d.name, kind, location } as const;
    // What arrived before a failure is kept in the record: retention deletes those files too.
    const files: Record<string, CopiedFile> = {};
    const failed = (error: string): DumpCopy => ({
      ...base,
      status: 'FAILED',
      bytes: null,
      files: Object.keys(files).length === 0 ? null : { ...files },
      error,
      finishedAt: new Date().toISOString(),
    });
    if (!isAllowed(req.allowed, d as Parameters<typeof isAllowed>[1])) {
      outcomes.push(
        failed(
          `destination ${d.name} (${d.local?.path ?? location}) is not one this agent's operator allows: start pgbackman with --allow-destination naming it (or set PGBACKMAN_ALLOWED_DESTINATIONS); nothing was sent`,
        ),
      );
      continue;
    }
    let destination: ReturnType<typeof openDestination> | undefined;
    try {
      destination = openDestination(d, req.env, req.secretsDir);
      let bytes = 0;
      const streamed = req.streamed?.get(d.name) ?? {};
      const send = async (file: string) => {
        req.signal?.throwIfAborted();
        // A file streamed short (it grew after it looked complete) is sent again whole from the root.
        const live = streamed[file];
        const stored =
          live === undefined || live.sha256 !== recordedSum(req.recorded, file)
            ? await putFile(
                destination as Destination,
                `${folder}/${file}`,
                join(req.dir, ...file.split('/')),
                req.signal,
              )
            : { key: file, ...live };
        const expected = recordedSum(req.recorded, file);
        if (expected !== undefined && expected !== stored.sha256)
          throw new Error(
            `${file} was sent with sha256 ${stored.sha256}, not the ${expected} recorded when it was taken: the file changed on disk`,
          );
        files[file] = {
          bytes: stored.bytes,
          sha256: stored.sha256,
          etag: stored.etag,
          versionId: stored.versionId,
        };
        bytes += stored.bytes;
      };
      const all = await filesOf(req.dir);
      const sizes = new Map(
        await Promise.all(
          all.map(async (f) => [f, (await stat(join(req.dir, ...f.split('/')))).size] as const),
        ),
      );
      // Large files one at a time (each upload holds its parts in memory); the small ones (roles, config, logs,
      // a directory dump's small tables) a few at once, so their round trips overlap; backup.json last.
      const body = all.filter((f) => f !== BACKUP_MANIFEST);
      for (const f of body.filter((f) => (sizes.get(f) ?? 0) >= SMALL_FILE)) await send(f);
      await inTurns(
        body.filter((f) => (sizes.get(f) ?? 0) < SMALL_FILE),
        SMALL_AT_ONCE,
        send,
      );
      if (all.includes(BACKUP_MANIFEST)) await send(BACKUP_MANIFEST);
      outcomes.push({
        ...base,
        status: 'COPIED',
        bytes,
        files,
        error: null,
        finishedAt: new Date().toISOString(),
      });
    } catch (err) {
      outcomes.push(failed(messageOf(err)));
    } finally {
      destination?.close();
    }
  }
  return outcomes;
}
