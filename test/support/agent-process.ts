import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT } from './run-cli.ts';

/** One line the agent logged (pino JSON), as parsed. */
export type LogLine = Record<string, unknown> & { msg?: string; event?: string; level?: number };

/** `pgbackman agent` in a child process of its own, its JSON log lines collected as they come. */
export interface AgentProcess {
  readonly child: ChildProcess;
  readonly lines: LogLine[];
  /** stderr, for anything that is not a log line (a crash would be here). */
  stderr(): string;
  /** Resolves with the first line (from `from` on) that matches, or rejects after `timeoutMs`. */
  waitFor(match: (l: LogLine) => boolean, timeoutMs?: number, from?: number): Promise<LogLine>;
  /** Resolves with the exit code (or the signal's name) once it exits. */
  readonly exited: Promise<number | string>;
  signal(name: NodeJS.Signals): void;
}

export function startAgent(args: readonly string[], env: NodeJS.ProcessEnv = {}): AgentProcess {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'pgbackman.js'), ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: LogLine[] = [];
  let err = '';
  let partial = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    for (const p of parts) {
      if (p.trim() === '') continue;
      try {
        lines.push(JSON.parse(p) as LogLine);
      } catch {
        lines.push({ msg: p, event: 'not-json' });
      }
    }
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
  });
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  return {
    child,
    lines,
    stderr: () => err,
    exited,
    signal: (name) => child.kill(name),
    async waitFor(match, timeoutMs = 30_000, from = 0) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const found = lines.slice(from).find(match);
        if (found !== undefined) return found;
        if (Date.now() > until || child.exitCode !== null)
          throw new Error(
            `no matching log line within ${timeoutMs} ms; the agent logged:\n${lines.map((l) => l.msg).join('\n')}\nstderr:\n${err}`,
          );
        await sleep(100);
      }
    },
  };
}
