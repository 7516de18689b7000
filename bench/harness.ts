// What every benchmark shares: the Benchmark contract bench/run.ts drives, and measuring commands as whole
// child processes (wall time and peak resident memory), interleaved, with warm-up runs and medians.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** GNU time: it reads the child's rusage (wait4), which Node does not expose for child processes. */
export const GNU_TIME = '/usr/bin/time';

/** One benchmark: a file `bench/ID.bench.ts` whose default export is this. */
export interface Benchmark {
  /** Names the BENCHMARKS.md section (`<!-- bench:ID:start -->`) and selects it: `npm run bench -- ID`. */
  readonly id: string;
  readonly title: string;
  /** Builds what the measurements need (fixtures) and says what was built; run before any measuring. */
  prepare?(ctx: BenchContext): Promise<void> | void;
  run(ctx: BenchContext): Promise<BenchResult>;
}

export interface BenchContext {
  /** The repository root: every command runs there. */
  readonly root: string;
  /** Overrides of the benchmark's own run counts (`--runs`, `--warmup`). */
  readonly runs: number | undefined;
  readonly warmup: number | undefined;
  /** `--small`: benchmarks that build large databases build smaller ones (and say so). */
  readonly small: boolean;
  /** Progress, to stderr. */
  log(line: string): void;
}

export interface BenchResult {
  /** Markdown paragraphs: what is measured and on what input. */
  readonly about: readonly string[];
  /** Commands a reader can run by hand to see the same thing (shown in BENCHMARKS.md). */
  readonly reproduce: readonly string[];
  readonly groups: readonly MeasuredGroup[];
  readonly ratios: readonly Ratio[];
  readonly targets: readonly Target[];
}

export interface CommandSpec {
  /** Short name used in tables and ratios. */
  readonly label: string;
  /** argv as a reader would type it in the repository root; a leading `node` runs this Node binary. */
  readonly command: readonly string[];
  readonly expectExitCode?: number;
  /** Checks a run's stdout (that it did the work it claims); returns a problem, or undefined when fine. */
  readonly check?: (stdout: string) => string | undefined;
  /** Untimed set-up before every run of this command, warm-ups included (a fresh catalogue for an apply). */
  readonly before?: () => Promise<void>;
  /** How tables show the command when its argv holds what differs between machines (a port); else argv. */
  readonly shown?: string;
}

/**
 * Processes the commands drive without starting them (a database server): their CPU time is the benchmark's
 * work, not competition, so it is measured per run and kept out of `otherCpuShare`.
 */
export interface Helper {
  /** Names the helper in tables ("PostgreSQL"). */
  readonly name: string;
  /** The helper's CPU time so far, in milliseconds; undefined when it cannot be read. */
  cpuMs(): number | undefined;
}

export interface Measurement {
  readonly spec: CommandSpec;
  /** Wall time of each measured run (warm-ups excluded), in milliseconds. */
  readonly wallMs: readonly number[];
  /** Peak resident set size of each measured run, in KiB; empty without GNU time. */
  readonly maxRssKiB: readonly number[];
  /** User + system CPU time of each measured run, in milliseconds (10 ms resolution); empty without GNU time. */
  readonly cpuMs: readonly number[];
  /** The helper's CPU time during each measured run, in milliseconds; empty without a helper. */
  readonly helperCpuMs: readonly number[];
  /** The last run's stdout, trimmed. */
  readonly stdout: string;
}

export interface MeasuredGroup {
  readonly runs: number;
  readonly warmup: number;
  /**
   * The share of the machine's CPU time (all CPUs) that other processes used while the group ran: total busy
   * time from /proc/stat minus the children's and the runner's own. Undefined where /proc/stat or GNU time is
   * missing. Much above zero means the wall times are inflated by competition.
   */
  readonly otherCpuShare: number | undefined;
  /** The helper's name, when the group had one. */
  readonly helper: string | undefined;
  readonly measurements: readonly Measurement[];
}

export interface Ratio {
  readonly name: string;
  readonly value: number;
}

export interface Target {
  readonly name: string;
  readonly measured: number;
  readonly limit: number;
  readonly unit: 'ms' | '×' | 'statements' | 'MiB' | 'runs' | 'dumps/s';
  /** A floor, not a ceiling: the measured value must reach the limit (a throughput). */
  readonly atLeast?: boolean;
  readonly pass: boolean;
}

export interface Stats {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

export function stats(values: readonly number[]): Stats {
  if (values.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN };
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median =
    sorted.length % 2 === 1
      ? (sorted[mid] as number)
      : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return { median, min: sorted[0] as number, max: sorted[sorted.length - 1] as number };
}

export function medianWall(group: MeasuredGroup, label: string): number {
  const m = group.measurements.find((x) => x.spec.label === label);
  if (m === undefined) throw new Error(`no measurement labelled "${label}"`);
  return stats(m.wallMs).median;
}

export function target(name: string, measured: number, limit: number, unit: Target['unit']): Target {
  return { name, measured, limit, unit, pass: measured <= limit };
}

/** A throughput target: passes when `measured` reaches `limit`. */
export function targetAtLeast(name: string, measured: number, limit: number, unit: Target['unit']): Target {
  return { name, measured, limit, unit, atLeast: true, pass: measured >= limit };
}

interface RunOutcome {
  readonly wallMs: number;
  readonly maxRssKiB: number | undefined;
  readonly cpuMs: number | undefined;
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `warmup` unmeasured rounds, then `runs` measured rounds; each round runs every command once, in turn,
 * starting one later each round, so drift in the machine's load and what ran just before touch all alike. Throws when a command exits unexpectedly.
 */
export async function measureGroup(
  specs: readonly CommandSpec[],
  options: { root: string; runs: number; warmup: number; log: (line: string) => void; helper?: Helper },
): Promise<MeasuredGroup> {
  const scratch = mkdtempSync(join(tmpdir(), 'pgbackman-bench-'));
  const wall = specs.map((): number[] => []);
  const rss = specs.map((): number[] => []);
  const cpu = specs.map((): number[] => []);
  const helperCpu = specs.map((): number[] => []);
  const last = specs.map(() => '');
  const { helper } = options;
  const machineBefore = machineCpu();
  const selfBefore = process.cpuUsage();
  const helperBefore = helper?.cpuMs();
  let childrenMs = 0;
  let childrenKnown = true;
  try {
    for (let round = 0; round < options.warmup + options.runs; round++) {
      const measured = round >= options.warmup;
      // Each round starts with the next command: none always runs first, after the same one, or warmest.
      for (const i of specs.map((_, k) => (k + round) % specs.length)) {
        const spec = specs[i] as CommandSpec;
        await spec.before?.();
        const helperStart = helper?.cpuMs();
        const outcome = await runOnce(spec, options.root, join(scratch, `rss-${i}`));
        const helperEnd = helper?.cpuMs();
        if (outcome.cpuMs === undefined) childrenKnown = false;
        else childrenMs += outcome.cpuMs;
        const expected = spec.expectExitCode ?? 0;
        const problem =
          outcome.exitCode !== expected
            ? `exited with ${outcome.exitCode ?? 'a signal'}, expected ${expected}`
            : spec.check?.(outcome.stdout);
        if (problem !== undefined) {
          throw new Error(
            `${display(spec.command)}: ${problem}\n${tail(outcome.stdout)}${tail(outcome.stderr)}`.trimEnd(),
          );
        }
        last[i] = outcome.stdout.trim();
        if (!measured) continue;
        wall[i]?.push(outcome.wallMs);
        if (outcome.maxRssKiB !== undefined) rss[i]?.push(outcome.maxRssKiB);
        if (outcome.cpuMs !== undefined) cpu[i]?.push(outcome.cpuMs);
        if (helperStart !== undefined && helperEnd !== undefined) helperCpu[i]?.push(helperEnd - helperStart);
      }
      const what = measured ? `run ${round - options.warmup + 1}/${options.runs}` : 'warm-up';
      options.log(`  ${what}: ${specs.map((s, i) => `${s.label} ${roundMs(lastOf(wall[i]))}`).join(', ')}`);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const machineAfter = machineCpu();
  const self = process.cpuUsage(selfBefore);
  const helperAfter = helper?.cpuMs();
  // With a helper, its whole CPU time during the group (the `before` steps' included) is ours.
  const helperKnown = helper === undefined || (helperBefore !== undefined && helperAfter !== undefined);
  const helperMs = helperBefore !== undefined && helperAfter !== undefined ? helperAfter - helperBefore : 0;
  let otherCpuShare: number | undefined;
  if (machineBefore !== undefined && machineAfter !== undefined && childrenKnown && helperKnown) {
    const busy = machineAfter.busyMs - machineBefore.busyMs;
    const total = machineAfter.totalMs - machineBefore.totalMs;
    const ours = childrenMs + helperMs + (self.user + self.system) / 1000;
    otherCpuShare = total > 0 ? Math.max(0, busy - ours) / total : undefined;
  }
  return {
    runs: options.runs,
    warmup: options.warmup,
    otherCpuShare,
    helper: helper?.name,
    measurements: specs.map((spec, i) => ({
      spec,
      wallMs: wall[i] ?? [],
      maxRssKiB: rss[i] ?? [],
      cpuMs: cpu[i] ?? [],
      helperCpuMs: helperCpu[i] ?? [],
      stdout: last[i] ?? '',
    })),
  };
}

/** CPU time of the whole machine so far (all CPUs), from /proc/stat; undefined elsewhere than Linux. */
export function machineCpu(): { busyMs: number; totalMs: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
    // cpu  user nice system idle iowait irq softirq steal ... in USER_HZ ticks (100 per second on Linux).
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = line
      .trim()
      .split(/\s+/)
      .slice(1, 9)
      .map(Number);
    const busy = user + nice + system + irq + softirq + steal;
    return { busyMs: busy * 10, totalMs: (busy + idle + iowait) * 10 };
  } catch {
    return undefined;
  }
}

/**
 * CPU time (user + system) of process `root` and all its descendants, in milliseconds: the living ones' own
 * time plus what each has reaped from exited children (`cutime`, `cstime`), from /proc/PID/stat. Undefined
 * where /proc is missing or `root` is gone.
 */
export function processTreeCpuMs(root: number): number | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined;
  }
  const children = new Map<number, number[]>();
  const ticks = new Map<number, number>();
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile: its parent has reaped its time, or will
    }
    // pid (comm) state ppid ... utime stime cutime cstime: comm may hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const [ppid, utime, stime, cutime, cstime] = [1, 11, 12, 13, 14].map((i) => Number(fields[i]));
    const pid = Number(entry);
    ticks.set(pid, (utime ?? 0) + (stime ?? 0) + (cutime ?? 0) + (cstime ?? 0));
    const siblings = children.get(ppid ?? 0);
    if (siblings === undefined) children.set(ppid ?? 0, [pid]);
    else siblings.push(pid);
  }
  if (!ticks.has(root)) return undefined;
  let total = 0;
  const queue = [root];
  for (let pid = queue.pop(); pid !== undefined; pid = queue.pop()) {
    total += ticks.get(pid) ?? 0;
    queue.push(...(children.get(pid) ?? []));
  }
  return total * 10; // USER_HZ ticks, 100 per second on Linux
}

function lastOf(values: readonly number[] | undefined): number | undefined {
  return values === undefined ? undefined : values[values.length - 1];
}

function roundMs(ms: number | undefined): string {
  return ms === undefined ? '-' : `${Math.round(ms)} ms`;
}

/**
 * One run: wall time from spawn to exit (process.hrtime); peak RSS (`%M`) and CPU time (`%U`, `%S`) from GNU
 * time, written to a file so the child's own stderr stays apart.
 */
function runOnce(spec: CommandSpec, cwd: string, rssFile: string): Promise<RunOutcome> {
  const [program = 'node', ...args] = spec.command;
  const executable = program === 'node' ? process.execPath : program;
  const withTime = existsSync(GNU_TIME);
  const argv = withTime ? ['-f', '%M %U %S', '-o', rssFile, executable, ...args] : args;
  // The runner itself is started with a TypeScript loader; the children must not inherit one.
  const { NODE_OPTIONS: _ignored, ...env } = process.env;
  return new Promise((resolve, reject) => {
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    const started = process.hrtime.bigint();
    let ended = started;
    const child = spawn(withTime ? GNU_TIME : executable, argv, {
      cwd,
      env: { ...env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (b: Buffer) => stdout.push(b));
    child.stderr.on('data', (b: Buffer) => stderr.push(b));
    child.on('error', reject);
    child.on('exit', () => {
      ended = process.hrtime.bigint();
    });
    child.on('close', (code) => {
      resolve({
        wallMs: Number(ended - started) / 1e6,
        ...(withTime ? readUsage(rssFile) : { maxRssKiB: undefined, cpuMs: undefined }),
        exitCode: code,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      });
    });
  });
}

/** GNU time writes `%M %U %S` as the last line (after "Command exited with non-zero status N", if any). */
function readUsage(file: string): { maxRssKiB: number | undefined; cpuMs: number | undefined } {
  try {
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    const [rss, user, sys] = (lines[lines.length - 1] ?? '').split(' ').map(Number);
    const finite = (v: number | undefined): v is number => v !== undefined && Number.isFinite(v);
    return {
      maxRssKiB: finite(rss) ? rss : undefined,
      cpuMs: finite(user) && finite(sys) ? (user + sys) * 1000 : undefined,
    };
  } catch {
    return { maxRssKiB: undefined, cpuMs: undefined };
  }
}

function tail(text: string): string {
  const trimmed = text.trim();
  if (trimmed === '') return '';
  const lines = trimmed.split('\n');
  return `${lines.slice(-10).join('\n')}\n`;
}

/** argv as a reader types it: `node` for this Node, arguments with spaces quoted. */
export function display(command: readonly string[]): string {
  return command.map((a) => (/^[\w./=:@%+-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}
