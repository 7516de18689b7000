import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A bare repository on disk (the "remote" an agent pulls) and a working clone the test commits and pushes from. */
export interface TestRepo {
  /** `file://…` of the bare repository. */
  readonly url: string;
  readonly work: string;
  /** Writes the files (path → content; null removes), commits and pushes; returns the full sha. */
  push(files: Record<string, string | null>, message?: string): Promise<string>;
  remove(): Promise<void>;
}

export async function createTestRepo(branch = 'main'): Promise<TestRepo> {
  const dir = await mkdtemp(join(tmpdir(), 'pgbackman-repo-'));
  const bare = join(dir, 'origin.git');
  const work = join(dir, 'work');
  const git = (cwd: string, ...args: string[]) =>
    run('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.com', ...args], {
      cwd,
      timeout: 30_000,
    });
  await run('git', ['init', '-q', '--bare', `--initial-branch=${branch}`, bare]);
  await run('git', ['init', '-q', `--initial-branch=${branch}`, work]);
  await git(work, 'remote', 'add', 'origin', bare);
  return {
    url: `file://${bare}`,
    work,
    async push(files, message = 'change') {
      for (const [path, content] of Object.entries(files)) {
        const file = join(work, path);
        if (content === null) await rm(file, { force: true });
        else {
          await mkdir(dirname(file), { recursive: true });
          await writeFile(file, content);
        }
      }
      await git(work, 'add', '-A');
      await git(work, 'commit', '-q', '--allow-empty', '-m', message);
      await git(work, 'push', '-q', 'origin', branch);
      return (await git(work, 'rev-parse', 'HEAD')).stdout.trim();
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
