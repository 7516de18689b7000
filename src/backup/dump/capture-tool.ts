import { spawnTool } from './spawn-tool.ts';

/** Runs a client tool whose output is small (roles, database statements) and returns its stdout. */
export async function captureTool(
  path: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  log: string,
  signal?: AbortSignal,
): Promise<string> {
  const tool = spawnTool(path, args, env, log, signal);
  const chunks: Buffer[] = [];
  tool.stdout.on('data', (c: Buffer) => chunks.push(c));
  await tool.done;
  return Buffer.concat(chunks).toString('utf8');
}
