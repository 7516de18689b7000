import { spawnTool } from '../backup/dump/spawn-tool.ts';
import { PgbackmanError } from '../errors.ts';
import type { SectionSink } from './cluster-script.ts';

/** A psql on the maintenance database reading one section from stdin (its \connect lines move it along). */
export function psqlSink(
  path: string,
  connection: string,
  env: NodeJS.ProcessEnv,
  logPath: string,
  signal: AbortSignal | undefined,
  onDone: () => void,
): SectionSink {
  const tool = spawnTool(
    path,
    ['--dbname', connection, '--no-password', '--no-psqlrc', '--set', 'ON_ERROR_STOP=1', '--quiet'],
    env,
    logPath,
    signal,
    undefined,
    undefined,
    'pipe',
  );
  tool.stdout.resume();
  const stdin = tool.stdin as NonNullable<typeof tool.stdin>;
  let failed: unknown;
  tool.done.catch((err: unknown) => {
    failed = err;
  });
  return {
    async write(line) {
      if (failed !== undefined) throw failed;
      if (!stdin.write(`${line}\n`))
        await new Promise<void>((resolve) => {
          const go = () => {
            stdin.off('close', go);
            stdin.off('drain', go);
            resolve();
          };
          stdin.once('drain', go);
          stdin.once('close', go);
        });
    },
    async end() {
      stdin.end();
      await tool.done;
      onDone();
    },
  };
}

/** A section's failure names the database it happened in and those restored before it. */
export function failingAs(sink: SectionSink, database: string, restored: readonly string[]): SectionSink {
  const wrap = async (fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (err) {
      throw new PgbackmanError(
        'RESTORE_FAILED',
        `database "${database}" failed (it exists and is only partly restored)${restored.length > 0 ? `; restored before it: ${restored.join(', ')}` : ''}: ${(err as Error).message}`,
        { cause: err },
      );
    }
  };
  return { write: (line) => wrap(() => sink.write(line)), end: () => wrap(() => sink.end()) };
}
