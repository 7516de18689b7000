import { execFile, spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { PgbackmanError } from '../errors.ts';
import { DEFAULT_MAX_FILE_BYTES } from '../manifest/read-manifest-file.ts';

const run = promisify(execFile);
/** git is local here: a command that takes longer than this is stuck. */
const GIT_MS = 30_000;
/** The files validate reads (find-manifest-files): YAML, not hidden, not in node_modules. */
const MANIFEST = /\.ya?ml$/;

/** The manifests under some paths as a git revision had them, in a temporary directory. */
export interface ManifestsAtRef {
  /** The same paths, inside the temporary directory; only those that existed at the revision. */
  readonly paths: readonly string[];
  /** `REF@sha1:<sha>`, as a plan's revision. */
  readonly revision: string;
  /** The temporary directory's path with a slash, to show its files as paths in the repository. */
  readonly prefix: string;
  cleanup(): Promise<void>;
}

/**
 * Writes the manifest files under `paths` (in one git repository) as they are at `ref` into a temporary
 * directory, read from git's objects (ls-tree, one cat-file --batch): the working tree is not touched, hooks
 * and filters never run, and a symbolic link in the tree is skipped, never followed.
 */
export async function manifestsAtRef(paths: readonly string[], ref: string): Promise<ManifestsAtRef> {
  if (ref === '' || ref.startsWith('-') || /[\s\u0000-\u001f]/.test(ref))
    throw new PgbackmanError('USAGE', `--against: "${ref}" is not a git revision`);
  const first = resolve(paths[0] ?? '.');
  let cwd = first;
  try {
    if (!statSync(first).isDirectory()) cwd = dirname(first);
  } catch {
    cwd = dirname(first);
  }
  const git = async (...args: string[]) =>
    (await run('git', ['-C', cwd, ...args], { timeout: GIT_MS, maxBuffer: 64 * 1024 * 1024 })).stdout;
  const top = (await git('rev-parse', '--show-toplevel').catch(() => '')).trim();
  if (top === '')
    throw new PgbackmanError('USAGE', `--against ${ref}: ${cwd} is not inside a git repository`);
  const sha = (await git('rev-parse', '--verify', '--quiet', `${ref}^{commit}`).catch(() => '')).trim();
  if (!/^[0-9a-f]{40,64}$/.test(sha))
    throw new PgbackmanError('NOT_FOUND', `--against ${ref}: no such commit, branch or tag in ${top}`);
  const rels = paths.map((p) => {
    const rel = relative(top, resolve(p));
    if (rel.startsWith('..') || isAbsolute(rel))
      throw new PgbackmanError('USAGE', `--against: ${p} is outside the repository ${top}`);
    return rel === '' ? '.' : rel;
  });
  const listing = await run(
    'git',
    ['-C', top, 'ls-tree', '-r', '-z', '-l', '--full-tree', sha, '--', ...rels],
    {
      timeout: GIT_MS,
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  const files = listing.stdout
    .split('\0')
    .filter((e) => e !== '')
    .map((e) => {
      const [meta, path] = e.split('\t') as [string, string];
      const [mode, type, oid, size] = meta.split(/ +/) as [string, string, string, string];
      return { mode, type, oid, size: Number(size), path };
    })
    .filter(
      (f) =>
        f.type === 'blob' &&
        (f.mode === '100644' || f.mode === '100755') &&
        MANIFEST.test(f.path) &&
        f.path.split('/').every((s) => s !== '..' && s !== '' && !s.startsWith('.') && s !== 'node_modules'),
    );
  // Checked before any is read: a huge blob at the base must not be loaded to find out it is too large.
  const huge = files.find((f) => !(f.size <= DEFAULT_MAX_FILE_BYTES));
  if (huge !== undefined)
    throw new PgbackmanError(
      'INVALID_INPUT',
      `--against ${ref}: ${huge.path} is ${huge.size} bytes there, over the limit of ${DEFAULT_MAX_FILE_BYTES} bytes for a manifest file`,
    );
  const dir = await mkdtemp(join(tmpdir(), 'pgbackman-against-'));
  try {
    const blobs = await catFiles(
      top,
      files.map((f) => f.oid),
    );
    for (const [i, f] of files.entries()) {
      const target = join(dir, f.path);
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, blobs[i] as Buffer);
    }
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const existing = rels
    .map((r) => join(dir, r))
    .filter((p) => {
      try {
        statSync(p);
        return true;
      } catch {
        return false;
      }
    });
  return {
    paths: existing,
    revision: `${ref}@sha1:${sha}`,
    prefix: `${dir}/`,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** The contents of blobs, in order, from one `git cat-file --batch`. */
async function catFiles(top: string, oids: readonly string[]): Promise<Buffer[]> {
  if (oids.length === 0) return [];
  const child = spawn('git', ['-C', top, 'cat-file', '--batch'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const timer = setTimeout(() => child.kill('SIGKILL'), GIT_MS);
  const chunks: Buffer[] = [];
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => chunks.push(c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => {
    stderr += c;
  });
  child.stdin.end(`${oids.join('\n')}\n`);
  const code = await new Promise<number | null>((done, fail) => {
    child.on('error', fail);
    child.on('close', done);
  }).finally(() => clearTimeout(timer));
  if (code !== 0) throw new PgbackmanError('IO', `git cat-file failed: ${stderr.trim() || `exit ${code}`}`);
  const out = Buffer.concat(chunks);
  const blobs: Buffer[] = [];
  let at = 0;
  for (const _ of oids) {
    const eol = out.indexOf(10, at);
    const header = out.subarray(at, eol).toString('utf8').split(' ');
    const size = Number(header[2]);
    if (header[1] !== 'blob' || !Number.isInteger(size))
      throw new PgbackmanError('IO', `git cat-file: unexpected "${header.join(' ')}"`);
    blobs.push(out.subarray(eol + 1, eol + 1 + size));
    at = eol + 1 + size + 1;
  }
  return blobs;
}
