import { chmodSync, existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import type { CatalogueDb, Queryable } from './catalogue-db.ts';
import { acquireEmbeddedLock, embeddedLockFile } from './embedded-lock.ts';
import { migrate } from './migrate.ts';

/**
 * Opens the embedded catalogue (PGlite, PostgreSQL in WebAssembly) in `dir`, creating it on first use.
 * PGlite is imported only here and in serve-embedded: commands that do not use it do not pay its start-up.
 */
export async function connectEmbedded(dir: string, command: string): Promise<CatalogueDb> {
  const path = resolve(dir);
  const release = acquireEmbeddedLock(embeddedLockFile(path), command);
  try {
    const db = await openPglite(path);
    return {
      ...pgliteCatalogue(db, path),
      async close() {
        try {
          await db.close();
          restrictTree(path);
        } finally {
          release();
        }
      },
    };
  } catch (err) {
    release();
    throw err;
  }
}

const SHARED_BUFFERS = '16MB';

/** Opens PGlite in `path` (the caller holds the lock); a catalogue created just now is migrated at once. */
export async function openPglite(path: string): Promise<PGlite> {
  const fresh = !existsSync(join(path, 'PG_VERSION'));
  const { PGlite } = await import('@electric-sql/pglite');
  // PostgreSQL's default 128 MB of shared buffers are zeroed at every start: about half a second of each
  // command's open (measured); a catalogue is read a few pages at a time, and the OS caches its files.
  const db = await PGlite.create(path, {
    startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${SHARED_BUFFERS}`],
  });
  // The catalogue names every node and path: like the rest of pgbackman's files, only its owner reads it.
  // PGlite sets its files' modes itself (0666), so they are narrowed after it writes them.
  restrictTree(path);
  try {
    if (fresh) await migrate(pgliteCatalogue(db, path));
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
  return db;
}

/** PGlite in this process as a CatalogueDb whose `close()` does nothing: the opener closes PGlite. */
function pgliteCatalogue(db: PGlite, path: string): CatalogueDb {
  const wrap = (t: { query: PGlite['query']; exec: PGlite['exec'] }): Queryable => ({
    async query<R extends object>(sql: string, params: readonly unknown[] = []) {
      return (await t.query<R>(sql, params as unknown[])).rows;
    },
    async exec(sql: string) {
      await t.exec(sql);
    },
  });
  return {
    kind: 'embedded',
    location: path,
    ...wrap(db),
    transaction: <T>(fn: (tx: Queryable) => Promise<T>) => db.transaction((tx) => fn(wrap(tx))),
    close: async () => undefined,
  };
}

/** Directories 0700, files 0600, under `dir` (a catalogue of a few hundred files: a few milliseconds). */
export function restrictTree(dir: string): void {
  try {
    chmodSync(dir, 0o700);
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) restrictTree(path);
      else if (entry.isFile()) chmodSync(path, 0o600);
    }
  } catch (err) {
    // Removed meanwhile (the directory deleted under a closing catalogue): nothing left to restrict.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
