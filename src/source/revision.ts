import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * The git revision the manifests come from, `branch@sha1:<sha>` (with `+dirty` when they have
 * uncommitted changes), or null outside a git work tree. Every git call is bounded by a timeout.
 */
export async function gitRevision(paths: readonly string[]): Promise<string | null> {
  const first = resolve(paths[0] ?? '.');
  let dir = first;
  try {
    if (!statSync(first).isDirectory()) dir = dirname(first);
  } catch {
    return null;
  }
  const git = async (...args: string[]) =>
    (await run('git', ['-C', dir, ...args], { timeout: 5000 })).stdout.trim();
  try {
    // All three at once: they run while the caller validates the manifests.
    const [sha, branch, status] = await Promise.all([
      git('rev-parse', 'HEAD'),
      git('rev-parse', '--abbrev-ref', 'HEAD'),
      git('status', '--porcelain', '--', ...paths.map((p) => resolve(p))),
    ]);
    const dirty = status !== '';
    return `${branch}@sha1:${sha}${dirty ? '+dirty' : ''}`;
  } catch {
    return null;
  }
}
