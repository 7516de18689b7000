import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * What lies in a server's root that no catalogue row knows: `<node>/<database>/<dump directory>` entries
 * that are no known dump's directory (nor its `.partial` while it runs). Reported, never deleted.
 * pgbackman's own dot-directories at the top (`.locks`) are not dumps.
 */
export interface StrayFinder {
  /** A run's recorded dump path (the file in its directory): its directory is known. */
  known(dumpPath: string | null): void;
  /** What no path named: each root's entries, sorted, in the roots' order. */
  unknown(): string[];
  /** Whether any dump directory lies under `root`: if none, its runs' paths need not be read. */
  holdsDumps(root: string): boolean;
}

/** One `<node>/<database>` directory's entries not yet named by a run, and the index of its root. */
interface DatabaseDir {
  readonly root: number;
  readonly entries: Set<string>;
}

/**
 * Lists the roots first and strikes off what the runs name as they are read, so its memory follows the
 * directories on disk rather than the runs in the catalogue, and an empty root costs nothing per run.
 * Entries are kept by name under their database directory: a few hundred thousand dumps on disk are a few
 * tens of MB, not a full path each.
 */
export function strayFinder(listed: readonly string[]): StrayFinder {
  // Two servers may share a root: it is listed once.
  const roots = [...new Set(listed)];
  const list = (dir: string) => {
    try {
      return readdirSync(dir, { withFileTypes: true });
    } catch {
      return [];
    }
  };
  const strays: string[][] = roots.map(() => []);
  const databases = new Map<string, DatabaseDir>();
  for (const [i, root] of roots.entries())
    for (const node of list(root)) {
      if (node.name.startsWith('.')) continue;
      const nodeDir = join(root, node.name);
      if (!node.isDirectory()) {
        strays[i]?.push(nodeDir);
        continue;
      }
      for (const db of list(nodeDir)) {
        const dbDir = join(nodeDir, db.name);
        if (!db.isDirectory()) {
          strays[i]?.push(dbDir);
          continue;
        }
        const entries = new Set(dumpEntries(dbDir));
        if (entries.size > 0) databases.set(dbDir, { root: i, entries });
      }
    }
  const holding = new Set([...databases.values()].map((d) => d.root));
  return {
    holdsDumps: (root) => holding.has(roots.indexOf(root)),
    known(dumpPath) {
      if (dumpPath === null || databases.size === 0) return;
      // `<database dir>/<dump dir>/<file>`: the recorded path is absolute and names a file.
      const file = dumpPath.lastIndexOf('/');
      const dir = dumpPath.lastIndexOf('/', file - 1);
      if (dir <= 0) return;
      databases.get(dumpPath.slice(0, dir))?.entries.delete(dumpPath.slice(dir + 1, file));
    },
    unknown() {
      for (const [dbDir, { root, entries }] of databases)
        for (const name of entries) strays[root]?.push(join(dbDir, name));
      databases.clear();
      return strays.flatMap((s) => s.sort());
    },
  };
}

/** A database directory's entries but running dumps' `.partial` directories (names only: no Dirent each). */
function dumpEntries(dbDir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dbDir);
  } catch {
    return [];
  }
  return names.filter((name) => !(name.endsWith('.partial') && isDirectory(join(dbDir, name))));
}

/** A real directory, not a link to one (as a listing's entry says). */
function isDirectory(path: string): boolean {
  try {
    return lstatSync(path).isDirectory();
  } catch {
    return false;
  }
}
