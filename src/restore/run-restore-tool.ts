import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { spawnTool } from '../backup/dump/spawn-tool.ts';
import { PgbackmanError } from '../errors.ts';

const run = promisify(execFile);
/** At most one progress line a second: a restore of thousands of objects must not flood a terminal. */
const PROGRESS_EVERY_MS = 1_000;

/**
 * pg_restore or psql with its stderr in the restore's log; pg_restore's verbose lines become progress
 * (`restored 12/40 items: creating TABLE "public.t"`) for whoever watches.
 */
export async function runRestoreTool(
  path: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  logFile: string,
  signal?: AbortSignal,
  progress?: (line: string) => void,
  input?: () => Readable,
): Promise<void> {
  // Fed on stdin (an encrypted dump), the archive is not listed first: that would decrypt it twice.
  const total = progress === undefined || input !== undefined ? undefined : await tocItems(path, args, env);
  let items = 0;
  let shown = 0;
  let partial = '';
  const onStderr =
    progress === undefined
      ? undefined
      : (chunk: string) => {
          const lines = (partial + chunk).split('\n');
          partial = lines.pop() ?? '';
          for (const line of lines) {
            const m = /^pg_restore: (creating .+|processing data for table .+|executing .+)$/.exec(line);
            if (m === null) continue;
            items++;
            if (Date.now() - shown < PROGRESS_EVERY_MS) continue;
            shown = Date.now();
            progress(`restored ${items}${total === undefined ? '' : `/${total}`} items: ${m[1]}`);
          }
        };
  const tool = spawnTool(
    path,
    args,
    env,
    logFile,
    signal,
    undefined,
    onStderr,
    input === undefined ? 'ignore' : 'pipe',
  );
  tool.stdout.resume();
  const fed =
    input === undefined || tool.stdin === null
      ? Promise.resolve()
      : feed(input, tool.stdin).catch((err: unknown) => {
          // The input failed (a sealed chunk that does not authenticate): the tool must not take what it got as all.
          tool.kill();
          throw err;
        });
  const [feeding, running] = await Promise.allSettled([fed, tool.done]);
  // The input's failure first: a tool that saw its stdin end early may even have exited 0.
  if (feeding.status === 'rejected' && !isBrokenPipe(feeding.reason))
    throw new PgbackmanError(
      'RESTORE_FAILED',
      `reading the dump failed part-way: ${(feeding.reason as Error).message}`,
      { cause: feeding.reason },
    );
  if (running.status === 'rejected')
    throw new PgbackmanError('RESTORE_FAILED', (running.reason as Error).message, { cause: running.reason });
  if (progress !== undefined && items > 0)
    progress(`restored ${items}${total === undefined ? '' : `/${total}`} items`);
}

/** The input into the tool's stdin, ended when the input is: rejects when the input fails. */
async function feed(input: () => Readable, stdin: Writable): Promise<void> {
  await pipeline(input(), stdin);
}

/** The tool closed its stdin (it exited): its own exit status says why. */
const isBrokenPipe = (err: unknown): boolean =>
  (err as NodeJS.ErrnoException)?.code === 'EPIPE' ||
  (err as NodeJS.ErrnoException)?.code === 'ERR_STREAM_PREMATURE_CLOSE';

/** The archive's table of contents, counted (pg_restore --list); unknown for psql or when it cannot be read. */
async function tocItems(
  path: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<number | undefined> {
  if (!path.endsWith('pg_restore')) return undefined;
  const file = args.at(-1) as string;
  try {
    const { stdout } = await run(join(dirname(path), 'pg_restore'), ['--list', file], {
      env,
      maxBuffer: 64 * 1024 * 1024,
      timeout: 120_000,
    });
    return stdout.split('\n').filter((l) => l !== '' && !l.startsWith(';')).length;
  } catch {
    return undefined;
  }
}
