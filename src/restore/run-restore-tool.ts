import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
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
): Promise<void> {
  const total = progress === undefined ? undefined : await tocItems(path, args, env);
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
  const tool = spawnTool(path, args, env, logFile, signal, undefined, onStderr);
  tool.stdout.resume();
  try {
    await tool.done;
  } catch (err) {
    throw new PgbackmanError('RESTORE_FAILED', (err as Error).message, { cause: err });
  }
  if (progress !== undefined && items > 0)
    progress(`restored ${items}${total === undefined ? '' : `/${total}`} items`);
}

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
