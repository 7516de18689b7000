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

/** The commit an apply came from, as `history` shows it. */
export interface CommitInfo {
  readonly author: string;
  readonly subject: string;
}

// Both come from whoever wrote the commit: bounded, and printable on one line.
const oneLine = (text: string, max: number) =>
  [...text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').trim()].slice(0, max).join('');

/**
 * The author (`Name <email>`) and subject of a revision's commit (`…@sha1:<sha>[+dirty]`), asked of the git
 * repository holding `dir`; null for a directory's digest, outside a repository, or when git fails.
 */
export async function commitInfo(dir: string, revision: string | null): Promise<CommitInfo | null> {
  const sha = revision?.match(/@sha1:([0-9a-f]{40})(?:\+dirty)?$/)?.[1];
  if (sha === undefined) return null;
  try {
    let cwd = resolve(dir);
    if (!statSync(cwd).isDirectory()) cwd = dirname(cwd);
    const { stdout } = await run(
      'git',
      ['-C', cwd, 'log', '-1', '--no-show-signature', '--format=%an <%ae>%x00%s', sha],
      {
        timeout: 5000,
        maxBuffer: 64 * 1024,
      },
    );
    const [author = '', subject = ''] = stdout.replace(/\n$/, '').split('\0');
    return { author: oneLine(author, 200), subject: oneLine(subject, 300) };
  } catch {
    return null;
  }
}
