import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export const REPO_ROOT = new URL('../../', import.meta.url).pathname;
const BIN = join(REPO_ROOT, 'bin', 'pgbackman.js');

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the built CLI as a user would, in its own process. */
export function runCli(
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      {
        cwd: options.cwd ?? REPO_ROOT,
        env: { ...process.env, NO_COLOR: '1', ...options.env },
        timeout: 30_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Writes `files` (relative path → content) into a fresh temp directory and returns its path. */
export async function writeTree(files: Record<string, string | Buffer>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pgbackman-cli-'));
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  return dir;
}

/** Output that would mean a crash rather than a diagnosis. */
export function assertNoStackTrace(result: CliResult): void {
  const all = `${result.stdout}\n${result.stderr}`;
  for (const sign of [/^\s+at .+:\d+:\d+\)?$/m, /internal error/, /TypeError|ReferenceError|RangeError/]) {
    if (sign.test(all)) throw new Error(`output looks like a crash (${sign}):\n${all}`);
  }
}
