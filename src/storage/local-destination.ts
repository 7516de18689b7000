import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, open, readdir, rename, rm, rmdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { fsync } from '../backup/files/hashed-file.ts';
import { ensureOwnDirs, ownDirsExist } from '../backup/files/own-dirs.ts';
import { PgbackmanError } from '../errors.ts';
import {
  checkKey,
  type Destination,
  discardBody,
  type ObjectFacts,
  type PutBody,
  type StoredObject,
} from './destination.ts';

/**
 * A directory (another disk, a mount of a second site). Objects are written under a temporary name, synced
 * and renamed; every directory on the way is created or checked as the root's are (own-dirs: no symbolic
 * link, no directory another user can write), so a key never leads outside `path`.
 */
export function localDestination(name: string, path: string): Destination {
  const where = path;
  const segmentsOf = (key: string) =>
    dirname(checkKey(key))
      .split('/')
      .filter((s) => s !== '.');
  const pathOf = (key: string) => join(path, checkKey(key));
  /** The object's path when every directory to it passes the checks; undefined when one does not exist or fails. */
  const existing = (key: string) => (ownDirsExist(path, ...segmentsOf(key)) ? pathOf(key) : undefined);
  const ioError = (what: string, err: unknown) =>
    new PgbackmanError('IO', `${name} (${where}): could not ${what}: ${(err as Error).message}`, {
      cause: err,
    });

  return {
    name,
    kind: 'local',
    where,
    async put(key: string, body: PutBody, signal?: AbortSignal): Promise<StoredObject> {
      const dir = ensureOwnDirs(path, ...segmentsOf(key));
      const final = pathOf(key);
      const temporary = join(dir, `.${randomBytes(6).toString('hex')}.partial`);
      const hash = createHash('sha256');
      let bytes = 0;
      const file = await open(temporary, 'wx', 0o600);
      try {
        // Stopped: a body still being read fails its wait, and the loop ends.
        const stop = () => discardBody(body, new Error('the copy was stopped'));
        signal?.addEventListener('abort', stop, { once: true });
        if (signal?.aborted) stop();
        try {
          // One chunk at a time, written before the next is asked for (a Handoff's writer reuses it then).
          for await (const chunk of body) {
            hash.update(chunk);
            bytes += chunk.length;
            await file.write(chunk);
          }
        } finally {
          signal?.removeEventListener('abort', stop);
        }
        await file.sync();
        await file.close();
        await rename(temporary, final);
        await fsync(dir);
        return { key, bytes, sha256: hash.digest('hex'), etag: null, versionId: null };
      } catch (err) {
        await file.close().catch(() => undefined);
        await rm(temporary, { force: true });
        if (err instanceof PgbackmanError) throw err;
        if (signal?.aborted)
          throw new PgbackmanError(
            'INTERRUPTED',
            `copy of ${key} to ${name} stopped: ${String(signal.reason)}`,
          );
        throw ioError(`write ${key}`, err);
      }
    },
    async head(key: string): Promise<ObjectFacts | null> {
      const file = existing(key);
      if (file === undefined) return null;
      const st = await lstat(file).catch(() => undefined);
      return st?.isFile() ? { bytes: st.size, etag: null } : null;
    },
    async get(key: string): Promise<Readable> {
      const file = existing(key);
      const st = file === undefined ? undefined : await lstat(file).catch(() => undefined);
      if (file === undefined || !st?.isFile())
        throw new PgbackmanError('NOT_FOUND', `${name} (${where}) holds no ${key}`);
      return createReadStream(file);
    },
    async list(limit: number): Promise<string[]> {
      const keys: string[] = [];
      // Directories only as they are (a symbolic link is not followed); a write's temporary file is not a key.
      const walk = async (dir: string, at: string): Promise<void> => {
        const entries = await readdir(dir, { withFileTypes: true }).catch((err: unknown) => {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT' && at === '') return [];
          throw ioError(`list ${dir}`, err);
        });
        for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
          if (keys.length >= limit) return;
          const key = at === '' ? e.name : `${at}/${e.name}`;
          if (e.isDirectory()) await walk(join(dir, e.name), key);
          else if (e.isFile() && !e.name.endsWith('.partial')) keys.push(key);
        }
      };
      await walk(path, '');
      return keys.sort();
    },
    async delete(key: string): Promise<void> {
      const file = existing(key);
      if (file === undefined) return;
      await rm(file, { force: true }).catch((err: unknown) => {
        throw ioError(`delete ${key}`, err);
      });
      // The folders the key made, once empty, go too (never `path` itself): a deleted dump leaves nothing.
      const segments = segmentsOf(key);
      for (let n = segments.length; n > 0; n--) {
        const emptied = await rmdir(join(path, ...segments.slice(0, n))).then(
          () => true,
          () => false,
        );
        if (!emptied) break;
      }
    },
    close: () => undefined,
  };
}
