import { chmodSync, existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CatalogueDb, Queryable } from './catalogue-db.ts';
import { acquireEmbeddedLock } from './embedded-lock.ts';
import { migrate } from './migrate.ts';

/**
 * Opens the embedded catalogue (PGlite, PostgreSQL in WebAssembly) in `dir`, creating it on first use.
 * PGlite is imported only here: commands that do not use it do not pay its start-up.
 */
export async function connectEmbedded(dir: string, command: string): Promise<CatalogueDb> {
  const path = resolve(dir);
  const release = acquireEmbeddedLock(join(path, '..', `${pathName(path)}.lock`), command);
  try {
    const fresh = !existsSync(join(path, 'PG_VERSION'));
    const { PGlite } = await import('@electric-sql/pglite');
    const db = await PGlite.create(path);
    // The catalogue names every node and path: like the rest of pgbackman's files, only its owner reads it.
    // PGlite sets its files' modes itself (0666), so they are narrowed after it writes them.
    restrictTree(path);
    const wrap = (t: { query: typeof db.query; exec: typeof db.exec }): Queryable => ({
      async query<R extends object>(sql: string, params: readonly unknown[] = []) {
        return (await t.query<R>(sql, params as unknown[])).rows;
      },
      async exec(sql: string) {
        await t.exec(sql);
      },
    });
    const catalogue: CatalogueDb = {
      kind: 'embedded',
      location: path,
      ...wrap(db),
      transaction: <T>(fn: (tx: Queryable) => Promise<T>) => db.transaction((tx) => fn(wrap(tx))),
      async close() {
        try {
          await db.close();
          restrictTree(path);
        } finally {
          release();
        }
      },
    };
    // A catalogue created just now has nothing to upgrade: give it its schema, so it works at once.
    if (fresh) await migrate(catalogue);
    return catalogue;
  } catch (err) {
    release();
    throw err;
  }
}

function pathName(path: string): string {
  return path.split('/').filter(Boolean).at(-1) ?? 'catalogue';
}

/** Directories 0700, files 0600, under `dir` (a catalogue of a few hundred files: a few milliseconds). */
function restrictTree(dir: string): void {
  chmodSync(dir, 0o700);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) restrictTree(path);
    else if (entry.isFile()) chmodSync(path, 0o600);
  }
}
