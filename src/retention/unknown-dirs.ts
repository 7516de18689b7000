import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * What lies in a server's root that no catalogue row knows: `<node>/<database>/<dump directory>` entries
 * that are no known dump's directory (nor its `.partial` while it runs). Reported, never deleted.
 * pgbackman's own dot-directories at the top (`.locks`) are not dumps.
 */
export interface StrayFinder {
  /** A run's recorded dump path: its directory is known. */
  known(dumpPath: string | null): void;
  /** What no path named, sorted. */
  unknown(): string[];
}

/**
 * Lists the root first and strikes off what the runs name as they are read, so its memory follows the
 * directories on disk rather than the runs in the catalogue.
 */
export function strayFinder(root: string): StrayFinder {
  const list = (dir: string) => {
    try {
      return readdirSync(dir, { withFileTypes: true });
    } catch {
      return [];
    }
  };
  const strays: string[] = [];
  const dumpDirs = new Set<string>();
  for (const node of list(root)) {
    if (node.name.startsWith('.')) continue;
    const nodeDir = join(root, node.name);
    if (!node.isDirectory()) {
      strays.push(nodeDir);
      continue;
    }
    for (const db of list(nodeDir)) {
      const dbDir = join(nodeDir, db.name);
      if (!db.isDirectory()) {
        strays.push(dbDir);
        continue;
      }
      for (const entry of list(dbDir))
        if (!(entry.name.endsWith('.partial') && entry.isDirectory())) dumpDirs.add(join(dbDir, entry.name));
    }
  }
  return {
    known(dumpPath) {
      if (dumpPath !== null) dumpDirs.delete(dirname(dumpPath));
    },
    unknown: () => [...strays, ...dumpDirs].sort(),
  };
}
