import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './run-cli.ts';

/** util-linux's `script`, which gives a command a pseudo-terminal; null where it is missing. */
export const SCRIPT_TOOL: string | null = (() => {
  const r = spawnSync('script', ['--version'], { encoding: 'utf8' });
  return r.status === 0 && /util-linux/.test(r.stdout) ? 'script' : null;
})();

export interface TerminalResult {
  readonly code: number;
  /** What the terminal showed (stdout and stderr, as a user sees them), with \r\n as \n and no escape codes. */
  readonly screen: string;
}

export interface TerminalOptions {
  /** Typed (with a newline) once the screen shows `when`, each at most once, in order. */
  readonly answers?: readonly { readonly when: RegExp; readonly type: string }[];
  /** Send stdout to this file instead of the terminal (stderr stays on it). */
  readonly stdoutTo?: string;
  readonly timeoutMs?: number;
}

/**
 * Runs the built CLI on a pseudo-terminal (`script -qfec`), as a user at a terminal would: stdin, stdout
 * and stderr are a TTY (stdout unless `stdoutTo`), and prompts are answered as they appear.
 */
export function runCliOnTerminal(args: readonly string[], o: TerminalOptions = {}): Promise<TerminalResult> {
  if (SCRIPT_TOOL === null) throw new Error('util-linux script is not installed');
  const command = [process.execPath, join(REPO_ROOT, 'bin', 'pgbackman.js'), ...args].map(shellQuote);
  const line = `exec ${command.join(' ')}${o.stdoutTo === undefined ? '' : ` > ${shellQuote(o.stdoutTo)}`}`;
  const child = spawn(SCRIPT_TOOL, ['-qfec', line, '/dev/null'], {
    cwd: REPO_ROOT,
    env: { ...process.env, NO_COLOR: '1', SHELL: '/bin/sh', TERM: 'dumb' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const answers = [...(o.answers ?? [])];
  let raw = '';
  const screen = () => raw.replace(/\r\n?/g, '\n').replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '');
  const onData = (chunk: Buffer) => {
    raw += chunk.toString('utf8');
    const next = answers[0];
    if (next?.when.test(screen())) {
      answers.shift();
      child.stdin.write(`${next.type}\n`);
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 60_000);
  return new Promise((resolve) =>
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      child.stdin.destroy();
      resolve({ code: code ?? (signal === null ? -1 : 128), screen: screen() });
    }),
  );
}

function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}
