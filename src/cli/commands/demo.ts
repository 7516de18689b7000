import { runDemo } from '../../demo/demo.ts';
import { createLogger } from '../../observability/logger.ts';
import { ExitCode } from '../exit-codes.ts';
import type { Output } from '../output.ts';

/** `pgbackman demo`: the agent on a throwaway node, until Ctrl-C. */
export async function runDemoCommand(stateDir: string, version: string, output: Output): Promise<ExitCode> {
  const stopped = new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  await runDemo(
    {
      stateDir,
      version,
      logger: createLogger({ format: 'human', stream: output.err }),
      say: (text) => output.err.write(text),
    },
    stopped,
  );
  return ExitCode.Ok;
}
