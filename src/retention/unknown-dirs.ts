import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * What lies in a server's root that no catalogue row knows: `<node>/<database>/<dump directory>` entries
 * that are no known dump's directory (nor its `.partial` while it runs). Reported, never deleted.
 * pgbackman's own dot-directories at the top (`.locks`) are not dumps.
 */
export function unknownDirs(root: string, dumpPaths: Iterable<string | null>): string[] {
  const known = new Set<string>();
  for (const p of dumpPaths) {
    if (p === null) continue;
    known.add(dirname(p));
  }
  const list = (dir: string) => {
    try {
      return readdirSync(dir, { withFileTypes: true });
    } catch {
      return [];
    }
  };
  const unknown: string[] = [];
  for (const node of list(root)) {
    if (node.name.startsWith('.')) continue;
    const nodeDir = join(root, node.name);
    if (!node.isDirectory()) {
      unknown.push(nodeDir);
      continue;
    }
    for (const db of list(nodeDir)) {
      const dbDir = join(nodeDir, db.name);
      if (!db.isDirectory()) {
        unknown.push(dbDir);
        continue;
      }
      for (const entry of list(dbDir)) {
        const path = join(dbDir, entry.name);
        if (known.has(path) || (entry.name.endsWith('.partial') && entry.isDirectory())) continue;
        unknown.push(path);
      }
    }
  }
  return unknown.sort();
}
