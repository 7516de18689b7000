import { readdirSync } from 'node:fs';
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

/**
 * Lists the roots first and strikes off what the runs name as they are read, so its memory follows the
 * directories on disk rather than the runs in the catalogue, and an empty root costs nothing per run.
 */
export function strayFinder(roots: readonly string[]): StrayFinder {
  const list = (dir: string) => {
    try {
      return readdirSync(dir, { withFileTypes: true });
    } catch {
      return [];
    }
  };
  const strays: string[][] = roots.map(() => []);
  /** Each dump directory on disk, and the index of its root. */
  const dumpDirs = new Map<string, number>();
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
        for (const entry of list(dbDir))
          if (!(entry.name.endsWith('.partial') && entry.isDirectory()))
            dumpDirs.set(join(dbDir, entry.name), i);
      }
    }
  const holding = new Set(dumpDirs.values());
  return {
    holdsDumps: (root) => holding.has(roots.indexOf(root)),
    known(dumpPath) {
      if (dumpPath === null || dumpPath === '' || dumpDirs.size === 0) return;
      // The recorded path is absolute and names a file: its directory is everything before the last '/'.
      dumpDirs.delete(dumpPath.slice(0, dumpPath.lastIndexOf('/')));
    },
    unknown() {
      for (const [dir, i] of dumpDirs) strays[i]?.push(dir);
      dumpDirs.clear();
      return strays.flatMap((s) => s.sort());
    },
  };
}
