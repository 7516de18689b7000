// One agent process for the agent benchmark: bench/agent-driver.mjs under GNU time (its peak RSS and CPU),
// its JSON log lines collected as they come, waited on, and a clean stop with SIGTERM.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { GNU_TIME, type MeasuredGroup } from './harness.ts';

/** One log line of the agent: pino's fields plus the driver's own (`at`: sub-millisecond epoch ms). */
export interface AgentLine {
  readonly time: string;
  readonly event?: string;
  readonly pid: number;
  readonly at?: number;
  readonly key?: string;
  readonly added?: number;
  readonly changed?: number;
  readonly removed?: number;
  readonly outcome?: string;
  /** A run's definition (`BackupDefinition/NAME`), status and recorded duration, on run_started/run_finished. */
  readonly definition?: string;
  readonly status?: string;
  readonly durationMs?: number;
  /** When the bench read the line (epoch ms). */
  readonly seenAt: number;
}

export interface AgentUsage {
  readonly wallMs: number;
  readonly maxRssKiB: number | undefined;
  readonly cpuMs: number | undefined;
}

export class AgentSession {
  readonly lines: AgentLine[] = [];
  readonly #child: ChildProcess;
  readonly #usageFile: string;
  readonly #started = performance.now();
  readonly #stderr: string[] = [];
  #waiters: (() => void)[] = [];
  #closed: Promise<number | null>;

  /** `script` is the agent's entry point: the no-op driver, or `bin/pgbackman.js` with `agent` in `argv`. */
  constructor(root: string, argv: readonly string[], scratch: string, script = 'bench/agent-driver.mjs') {
    this.#usageFile = join(scratch, 'agent-usage');
    const { NODE_OPTIONS: _ignored, ...env } = process.env;
    const withTime = existsSync(GNU_TIME);
    // BENCH_AGENT_CPU_PROF=DIR profiles the agent (node --cpu-prof), to see where its time goes.
    const prof = process.env.BENCH_AGENT_CPU_PROF;
    const flags = prof === undefined || prof === '' ? [] : ['--cpu-prof', `--cpu-prof-dir=${prof}`];
    const node = [process.execPath, ...flags, script, ...argv];
    const [program = '', ...args] = withTime
      ? [GNU_TIME, '-f', '%M %U %S', '-o', this.#usageFile, ...node]
      : node;
    this.#child = spawn(program, args, { cwd: root, env: { ...env, NO_COLOR: '1' } });
    createInterface({ input: this.#child.stdout as NodeJS.ReadableStream }).on('line', (text) => {
      if (!text.startsWith('{')) return;
      this.lines.push({ ...(JSON.parse(text) as Omit<AgentLine, 'seenAt'>), seenAt: Date.now() });
      for (const wake of this.#waiters.splice(0)) wake();
    });
    this.#child.stderr?.on('data', (b: Buffer) => this.#stderr.push(b.toString('utf8')));
    this.#closed = new Promise((resolve) => this.#child.on('close', (code) => resolve(code)));
    void this.#closed.then(() => {
      for (const wake of this.#waiters.splice(0)) wake();
    });
  }

  /** The Node process's pid (GNU time's child), from its first log line. */
  get pid(): number | undefined {
    return this.lines[0]?.pid;
  }

  /** Waits for the first line from index `from` that matches; throws after `timeoutMs` or if the agent ends. */
  async waitFor(match: (l: AgentLine) => boolean, timeoutMs: number, from = 0): Promise<AgentLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines.slice(from).find(match);
      if (found !== undefined) return found;
      if (this.#child.exitCode !== null || this.#child.signalCode !== null)
        throw new Error(`the agent ended (${this.#child.exitCode}): ${this.#stderr.join('').slice(-2000)}`);
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `the agent did not log what was awaited within ${timeoutMs} ms; its last lines: ${this.lines
            .slice(-4)
            .map((l) => JSON.stringify(l))
            .join('\n')}`,
        );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 1000));
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** The Node process's peak and current resident memory so far (KiB), from /proc. */
  memory(): { hwmKiB: number; rssKiB: number } | undefined {
    try {
      const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
      const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1]);
      return { hwmKiB: kib('VmHWM'), rssKiB: kib('VmRSS') };
    } catch {
      return undefined;
    }
  }

  /** SIGTERM to Node itself (GNU time does not pass signals on); resolves with its usage once it exited. */
  async stop(): Promise<AgentUsage> {
    if (this.pid !== undefined) process.kill(this.pid, 'SIGTERM');
    else this.#child.kill('SIGTERM');
    const code = await this.#closed;
    const wallMs = performance.now() - this.#started;
    if (code !== 0) throw new Error(`the agent exited with ${code}: ${this.#stderr.join('').slice(-2000)}`);
    try {
      const last = readFileSync(this.#usageFile, 'utf8').trim().split('\n').pop() ?? '';
      const [rss, user, sys] = last.split(' ').map(Number);
      return { wallMs, maxRssKiB: rss, cpuMs: ((user ?? Number.NaN) + (sys ?? Number.NaN)) * 1000 };
    } catch {
      return { wallMs, maxRssKiB: undefined, cpuMs: undefined };
    }
  }

  /** Ends it at once, if it still runs (the benchmark failed). */
  kill(): void {
    if (this.pid !== undefined && this.#child.exitCode === null) process.kill(this.pid, 'SIGKILL');
  }
}

/** The agent's session as one measured run, so its peak RSS and CPU land in the benchmark's table. */
export function sessionGroup(
  usage: AgentUsage,
  shown: string,
  pgCpuMs: number | undefined,
  otherCpuShare: number | undefined,
): MeasuredGroup {
  const one = (v: number | undefined) => (v === undefined ? [] : [v]);
  return {
    runs: 1,
    warmup: 0,
    otherCpuShare,
    helper: 'PostgreSQL',
    measurements: [
      {
        spec: { label: 'agent session', command: ['node', 'bench/agent-driver.mjs'], shown },
        wallMs: [usage.wallMs],
        maxRssKiB: one(usage.maxRssKiB),
        cpuMs: one(usage.cpuMs),
        helperCpuMs: one(pgCpuMs),
        stdout: '',
      },
    ],
  };
}
