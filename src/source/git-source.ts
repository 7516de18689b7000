import { existsSync } from 'node:fs';
import { mkdir, realpath, rm } from 'node:fs/promises';
import { isAbsolute, join, normalize, sep } from 'node:path';
import { type SimpleGit, simpleGit } from 'simple-git';
import { messageOf, PgbackmanError } from '../errors.ts';
import { type Fetched, redactCredentials, type Source } from './source.ts';

export interface GitSourceOptions {
  readonly url: string;
  readonly branch: string;
  /** The manifests' directory inside the repository. */
  readonly path: string;
  /** Where the checkout lives (in the agent's state directory). */
  readonly checkout: string;
  /** A git process silent for this long is killed. */
  readonly timeoutMs?: number;
}

// Never prompt (nobody is there to answer), never run a repository's hooks or filters, and check symlinks
// out as plain files: a manifest that links to /etc/pgbackman/secrets/... must not be read through.
const SAFE_CONFIG = ['core.symlinks=false', 'core.hooksPath=/dev/null'];

/** A git repository: cloned once into the state directory, then fetched and hard-reset to the branch. */
export function gitSource(options: GitSourceOptions): Source {
  const description = `${redactCredentials(options.url)} (branch ${options.branch}${options.path === '.' ? '' : `, path ${options.path}`})`;
  const subPath = checkedSubPath(options.path);
  const env = gitEnv(process.env);
  const git = (baseDir?: string): SimpleGit =>
    simpleGit({
      ...(baseDir === undefined ? {} : { baseDir }),
      config: SAFE_CONFIG,
      allowConfig: SAFE_CONFIG.map((c) => c.split('=')[0] as string),
      allowEnvironment: Object.keys(env).filter((k) => k.startsWith('GIT_')),
      timeout: { block: options.timeoutMs ?? 60_000 },
    }).env(env);
  return {
    description,
    async fetch(): Promise<Fetched> {
      try {
        if (!existsSync(join(options.checkout, '.git'))) {
          await rm(options.checkout, { recursive: true, force: true });
          await mkdir(options.checkout, { recursive: true, mode: 0o700 });
          await git().clone(options.url, options.checkout, [
            '--branch',
            options.branch,
            '--single-branch',
            '--no-tags',
            ...SAFE_CONFIG.flatMap((c) => ['--config', c]),
          ]);
        } else {
          const repo = git(options.checkout);
          await repo.raw(['remote', 'set-url', 'origin', options.url]);
          await repo.fetch('origin', `+refs/heads/${options.branch}:refs/remotes/origin/${options.branch}`, {
            '--prune': null,
            '--no-tags': null,
          });
          await repo.reset(['--hard', `origin/${options.branch}`]);
          await repo.clean('f', ['-d', '-x']);
        }
        const sha = (await git(options.checkout).revparse(['HEAD'])).trim();
        const path = join(options.checkout, subPath);
        await requireInside(options.checkout, path, options.path);
        return { path, revision: `${options.branch}@sha1:${sha}` };
      } catch (err) {
        if (err instanceof PgbackmanError) throw err;
        throw sourceError(description, err);
      }
    },
  };
}

/**
 * The agent's environment for git, with git's own credential means (SSH agent and keys, credential helpers,
 * CA files) and never a prompt; other GIT_* variables of the agent's environment are not passed on.
 */
function gitEnv(from: NodeJS.ProcessEnv): Record<string, string> {
  // Variables git reads to run programs (EDITOR, PAGER, GIT_*…) are not passed on, but for the ones the
  // operator may set for credentials and TLS.
  const passed = new Set(['GIT_SSH_COMMAND', 'GIT_SSL_CAINFO', 'GIT_SSL_CAPATH', 'GIT_ASKPASS']);
  const guarded = /^(GIT_|EDITOR$|VISUAL$|PAGER$|PREFIX$|SSH_ASKPASS$)/i;
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(from))
    if (v !== undefined && (!guarded.test(k) || passed.has(k))) env[k] = v;
  env.GIT_TERMINAL_PROMPT = '0';
  env.GIT_SSH_COMMAND ??= 'ssh -o BatchMode=yes -o ConnectTimeout=30';
  return env;
}

/** `--path` is relative to the repository and stays inside it. */
function checkedSubPath(path: string): string {
  const p = normalize(path);
  if (isAbsolute(p) || p === '..' || p.startsWith(`..${sep}`))
    throw new PgbackmanError('USAGE', `--path: "${path}" must be a directory inside the repository`);
  return p;
}

async function requireInside(checkout: string, path: string, given: string): Promise<void> {
  const [root, real] = await Promise.all([realpath(checkout), realpath(path)]).catch(() => {
    throw new PgbackmanError('NOT_FOUND', `--path ${given}: no such directory in the repository`);
  });
  if (real !== root && !real.startsWith(`${root}${sep}`))
    throw new PgbackmanError('UNSAFE', `--path ${given} leads outside the repository`);
}

/** git's own words, without credentials; a timeout or a network failure is worth retrying. */
function sourceError(description: string, err: unknown): PgbackmanError {
  const text = redactCredentials(messageOf(err)).trim().split('\n').slice(-3).join(' ');
  const timedOut = /timeout|timed out/i.test(text);
  const network = /could not resolve|connection refused|unable to access|could not read from remote/i.test(
    text,
  );
  return new PgbackmanError(
    timedOut ? 'TIMEOUT' : network ? 'SOURCE_UNREACHABLE' : 'SOURCE_FAILED',
    `git ${description}: ${text}`,
    { cause: err },
  );
}
