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

/** How long a signalled agent may take to exit: its grace in the tests is at most a few seconds. */
const EXIT_WITHIN_MS = 60_000;

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
  let hung: NodeJS.Timeout | undefined;
  let hungAfter = '';
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => {
      clearTimeout(hung);
      resolve(hungAfter || (code ?? signal ?? -1));
    }),
  );
  return {
    child,
    lines,
    stderr: () =>
      `${err}${
        hungAfter
          ? `\n${hungAfter}; its last log lines:\n${lines
              .slice(-20)
              .map((l) => JSON.stringify(l))
              .join('\n')}`
          : ''
      }`,
    exited,
    signal: (name) => {
      child.kill(name);
      // An agent that does not stop fails its test (and is killed) instead of hanging the run.
      if (name !== 'SIGKILL' && hung === undefined && child.exitCode === null && child.signalCode === null)
        hung = setTimeout(() => {
          hungAfter = `still running ${EXIT_WITHIN_MS / 1000} s after ${name}: killed`;
          child.kill('SIGKILL');
        }, EXIT_WITHIN_MS);
    },
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

/** `agent --server local` on a watched directory, with its state under `stateDir`: the tests' usual agent. */
export function watchingAgentArgs(
  catalogue: string,
  watch: string,
  stateDir: string,
  ...extra: string[]
): string[] {
  return [
    '--catalogue',
    catalogue,
    'agent',
    '--server',
    'local',
    '--watch',
    watch,
    '--state-dir',
    stateDir,
    '--interval',
    '2s',
    '--listen',
    'none',
    ...extra,
  ];
}
