import { spawn } from 'node:child_process';
import { accessSync, constants, createWriteStream, existsSync } from 'node:fs';
import type { Socket } from 'node:net';
import { Readable, type Writable } from 'node:stream';
import { messageOf, PgbackmanError } from '../../errors.ts';

const SETPRIV = '/usr/bin/setpriv';
const ORPHAN_GUARD = process.platform === 'linux' && existsSync(SETPRIV);
/** How long a tool sent SIGTERM has to exit before its process group is sent SIGKILL. */
export const KILL_AFTER_MS = 10_000;

export interface ToolRun {
  /** The tool's stdout, to be consumed by the caller (it is paused until read). */
  readonly stdout: Readable;
  /** The tool's stdin, when asked for (psql reading a script section); null otherwise. */
  readonly stdin: Writable | null;
  /** Resolves when the tool exits 0; rejects with the last lines of its stderr otherwise. */
  readonly done: Promise<void>;
  kill(): void;
}

/** Runs a PostgreSQL client tool with an argument array (never a shell), its stderr appended to `logFile`. */
export function spawnTool(
  path: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  logFile: string,
  signal?: AbortSignal,
  stdout?: Socket,
  onStderr?: (chunk: string) => void,
  stdin: 'ignore' | 'pipe' = 'ignore',
): ToolRun {
  if (ORPHAN_GUARD) {
    // setpriv would report a missing tool as its own exit 127: say it as plainly as spawn would.
    try {
      accessSync(path, constants.X_OK);
    } catch (err) {
      stdout?.destroy();
      const done = Promise.reject(new PgbackmanError('IO', `cannot run ${path}: ${messageOf(err)}`));
      done.catch(() => undefined);
      return { stdout: Readable.from([]), stdin: null, done, kill: () => undefined };
    }
  }
  // If pgbackman dies, even by SIGKILL, the kernel sends the tool SIGTERM (PR_SET_PDEATHSIG through setpriv):
  // no pg_dump outlives it holding a snapshot open on the node.
  const [command, argv] = ORPHAN_GUARD
    ? [SETPRIV, ['--pdeathsig', 'TERM', '--', path, ...args]]
    : [path, [...args]];
  // The tool leads a process group of its own: pg_dumpall runs a pg_dump per database through sh, and an
  // interrupted run must stop those too, not only pg_dumpall (which leaves them running, orphaned).
  const child = spawn(command, argv, { env, stdio: [stdin, stdout ?? 'pipe', 'pipe'], detached: true });
  child.stdin?.on('error', () => undefined); // a tool that exits early closes its stdin: its exit says why
  const signalGroup = (sig: NodeJS.Signals) => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, sig);
    } catch {
      child.kill(sig); // the group is gone already, or was never made
    }
  };
  let hardKill: NodeJS.Timeout | undefined;
  const killGroup = () => {
    signalGroup('SIGTERM');
    // pg_dump's SIGTERM handler first sends the server a cancel request and waits for its answer: from a
    // node that stopped answering none comes, so the group is killed outright if it is still there.
    hardKill ??= setTimeout(() => signalGroup('SIGKILL'), KILL_AFTER_MS).unref();
  };
  // An aborted signal (the run interrupted) sends the tools SIGTERM; the tool then closes like any killed one.
  if (signal?.aborted) killGroup();
  else signal?.addEventListener('abort', killGroup, { once: true });
  child.on('close', () => {
    signal?.removeEventListener('abort', killGroup);
    clearTimeout(hardKill);
  });
  // The child has its own copy of a given stdout; the parent's must go, or the reader never sees the end.
  stdout?.destroy();
  const log = createWriteStream(logFile, { flags: 'a', mode: 0o600 });
  log.on('error', () => undefined); // a log that cannot be written never takes the run down with it
  let tail = '';
  (child.stderr as Readable).on('data', (chunk: Buffer) => {
    log.write(chunk);
    tail = (tail + chunk.toString('utf8')).slice(-4000);
    onStderr?.(chunk.toString('utf8'));
  });
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', (err) => {
      if (err.name !== 'AbortError')
        reject(new PgbackmanError('IO', `cannot run ${path}: ${err.message}`, { cause: err }));
    });
    child.on('close', (code, signal) => {
      log.end();
      if (code === 0) return resolve();
      const last = tail
        .trim()
        .split('\n')
        .filter(
          (l) =>
            !/^pg_dump(all)?: (dumping|reading|last built-in|identifying|finding|flagging|saving|processing|reading|implied|creating)/.test(
              l,
            ),
        )
        .slice(-5)
        .join('\n');
      const how = signal === null ? `exited with status ${code}` : `was killed by ${signal}`;
      reject(new PgbackmanError('IO', `${path.split('/').pop()} ${how}${last ? `: ${last}` : ''}`));
    });
  });
  return { stdout: child.stdout ?? Readable.from([]), stdin: child.stdin, done, kill: killGroup };
}
