// `npm run bench [-- ID... --runs N --warmup N --no-write --fail-on-miss --small]`: builds what each benchmark needs,
// runs every bench/*.bench.ts (or those named), prints a table, and rewrites each benchmark's own section of
// BENCHMARKS.md (between `<!-- bench:ID:start -->` and `<!-- bench:ID:end -->`), keeping the rest of the file.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { arch, cpus, loadavg, release, totalmem, type } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import {
  type BenchContext,
  type Benchmark,
  type BenchResult,
  display,
  GNU_TIME,
  type MeasuredGroup,
  stats,
  type Target,
} from './harness.ts';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH_DIR);
const REPORT = join(ROOT, 'BENCHMARKS.md');
const REPORT_HEADER = `# Benchmarks

Measured by \`npm run bench\` (\`bench/run.ts\`). Each section belongs to one benchmark, \`bench/ID.bench.ts\`,
and is rewritten between its \`<!-- bench:ID:start -->\` and \`<!-- bench:ID:end -->\` markers each time that
benchmark runs (\`npm run bench -- ID\` runs only it); everything outside the markers is kept as written.
Figures are from one machine at one time: compare runs on the same machine, and mind a "machine was busy" note.
`;

interface Machine {
  readonly node: string;
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memory: string;
  readonly os: string;
  readonly load: string;
  readonly date: string;
  readonly commit: string;
}

function machine(): Machine {
  const list = cpus();
  const git = (...args: string[]): string => {
    try {
      return execFileSync('git', args, {
        cwd: ROOT,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim();
    } catch {
      return '';
    }
  };
  const head = git('rev-parse', '--short', 'HEAD');
  const dirty = git('status', '--porcelain', '--untracked-files=no') !== '';
  return {
    node: process.version,
    cpus: list.length,
    cpuModel: list[0]?.model.trim() ?? 'unknown CPU',
    memory: `${(totalmem() / 1024 ** 3).toFixed(1)} GiB`,
    os: `${type()} ${release()} ${arch()}`,
    load: loadavg()
      .map((l) => l.toFixed(2))
      .join(' '),
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    commit: head === '' ? 'not a git checkout' : `${head}${dirty ? ' with uncommitted changes' : ''}`,
  };
}

async function discover(only: readonly string[]): Promise<Benchmark[]> {
  const files = readdirSync(BENCH_DIR)
    .filter((f) => f.endsWith('.bench.ts'))
    .sort();
  const found: Benchmark[] = [];
  for (const file of files) {
    const mod = (await import(pathToFileURL(join(BENCH_DIR, file)).href)) as { default?: Benchmark };
    const bench = mod.default;
    if (bench === undefined || typeof bench.run !== 'function' || !/^[a-z0-9-]+$/.test(bench.id))
      throw new Error(`bench/${file}: its default export must be a Benchmark with an id of [a-z0-9-]`);
    if (found.some((b) => b.id === bench.id)) throw new Error(`bench/${file}: duplicate id "${bench.id}"`);
    found.push(bench);
  }
  const unknown = only.filter((id) => !found.some((b) => b.id === id));
  if (unknown.length > 0)
    throw new Error(`unknown benchmark ${unknown.join(', ')} (have: ${found.map((b) => b.id).join(', ')})`);
  return only.length === 0 ? found : found.filter((b) => only.includes(b.id));
}

/** Above this share of the machine's CPU time used by other processes during a group, wall times are suspect. */
const BUSY_SHARE = 0.1;

/** The largest share of CPU time other processes took during any group, if known. */
function otherShare(result: BenchResult): number | undefined {
  const shares = result.groups.flatMap((g) => (g.otherCpuShare === undefined ? [] : [g.otherCpuShare]));
  return shares.length === 0 ? undefined : Math.max(...shares);
}
const pct = (v: number): string => `${Math.round(v * 100)}%`;

const ms = (v: number): string =>
  Number.isNaN(v) ? '-' : v >= 100 ? `${Math.round(v)} ms` : `${v.toFixed(1)} ms`;
const mib = (kib: number): string => (Number.isNaN(kib) ? '-' : `${(kib / 1024).toFixed(0)} MiB`);
const times = (v: number): string => `${v.toFixed(2)}×`;
const count = (v: number, unit: string): string => `${Math.round(v).toLocaleString('en-US')} ${unit}`;
const measured = (t: Target): string =>
  t.unit === 'ms' ? ms(t.measured) : t.unit === '×' ? times(t.measured) : count(t.measured, t.unit);
const limit = (t: Target): string =>
  `${t.atLeast === true ? '≥' : '≤'} ${t.unit === 'ms' ? `${t.limit} ms` : t.unit === '×' ? times(t.limit) : count(t.limit, t.unit)}`;
const verdict = (t: Target): string => (t.pass ? 'PASS' : 'MISS');

interface Row {
  readonly label: string;
  readonly command: string;
  readonly median: string;
  readonly min: string;
  readonly max: string;
  readonly rss: string;
  readonly cpu: string;
  /** The helper's CPU median (a database server the command drives), '-' without one. */
  readonly helperCpu: string;
}

function rows(groups: readonly MeasuredGroup[]): Row[] {
  return groups.flatMap((g) =>
    g.measurements.map((m) => {
      const wall = stats(m.wallMs);
      const rss = stats(m.maxRssKiB);
      const cpu = stats(m.cpuMs);
      return {
        label: m.spec.label,
        command: m.spec.shown ?? display(m.spec.command),
        median: ms(wall.median),
        min: ms(wall.min),
        max: ms(wall.max),
        rss: Number.isNaN(rss.median) ? '-' : `${mib(rss.median)} (max ${mib(rss.max)})`,
        cpu: ms(cpu.median),
        helperCpu: ms(stats(m.helperCpuMs).median),
      };
    }),
  );
}

/** The helper named by the result's groups (its CPU gets a column), if any. */
function helperName(result: BenchResult): string | undefined {
  return result.groups.find((g) => g.helper !== undefined)?.helper;
}

function textTable(header: readonly string[], body: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

function mdTable(header: readonly string[], body: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...body.map(line)].join('\n');
}

function printResult(bench: Benchmark, result: BenchResult): void {
  const r = rows(result.groups);
  const helper = helperName(result);
  console.log(`\n== ${bench.id}: ${bench.title}`);
  console.log(
    textTable(
      [
        'measurement',
        'median',
        'min',
        'max',
        'CPU',
        ...(helper === undefined ? [] : [`${helper} CPU`]),
        'peak RSS',
        'command',
      ],
      r.map((x) => [
        x.label,
        x.median,
        x.min,
        x.max,
        x.cpu,
        ...(helper === undefined ? [] : [x.helperCpu]),
        x.rss,
        x.command,
      ]),
    ),
  );
  const shares = result.groups.map((g) => (g.otherCpuShare === undefined ? '?' : pct(g.otherCpuShare)));
  if (shares.length > 0)
    console.log(`(other processes' share of the machine's CPU time during each group: ${shares.join(', ')})`);
  console.log('');
  console.log(
    textTable(
      ['ratio of medians', 'value'],
      result.ratios.map((x) => [x.name, times(x.value)]),
    ),
  );
  console.log('');
  console.log(
    textTable(
      ['target', 'measured', 'limit', 'result'],
      result.targets.map((t) => [t.name, measured(t), limit(t), verdict(t)]),
    ),
  );
}

function section(bench: Benchmark, result: BenchResult, m: Machine): string {
  const r = rows(result.groups);
  const helper = helperName(result);
  const other = otherShare(result);
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const runs = result.groups
    .map(
      (g) =>
        `${plural(g.runs, 'run')} after ${plural(g.warmup, 'warm-up')}${g.otherCpuShare === undefined ? '' : `, other processes using ${pct(g.otherCpuShare)} of the CPU time meanwhile`}`,
    )
    .join('; ');
  const usage = existsSync(GNU_TIME)
    ? `Peak RSS is the child's maximum resident set size and CPU is its user + system time, as \`${GNU_TIME} -f '%M %U %S'\` reports them (from \`wait4\`'s rusage: Node 20 gives no rusage for child processes); medians over the runs, the largest RSS in brackets. CPU time (10 ms resolution) is less disturbed than wall time when other processes share the machine.`
    : `Peak RSS and CPU time are not measured: \`${GNU_TIME}\` (GNU time) is missing.`;
  const helperUsage =
    helper === undefined
      ? ''
      : ` ${helper} CPU is the user + system time the ${helper} server's processes (the server and every descendant, living or exited, from \`/proc/PID/stat\`) used while each run lasted: work done for the command, so it is not counted as other processes'.`;
  return [
    `<!-- bench:${bench.id}:start -->`,
    `## ${bench.title}`,
    '',
    ...result.about.flatMap((p) => [p, '']),
    'Rerun:',
    '',
    '```sh',
    ...result.reproduce,
    '```',
    '',
    `Machine: Node ${m.node}, ${m.cpus} CPUs (\`os.cpus()\`: ${m.cpuModel}), ${m.memory} RAM, ${m.os}; load average ${m.load} when the run started; ${m.date}; commit ${m.commit}.`,
    '',
    ...(other !== undefined && other >= BUSY_SHARE
      ? [
          `> **The machine was busy**: other processes used ${pct(other)} of its CPU time during the runs, so wall times are inflated; compare CPU times, or rerun on a quiet machine.`,
          '',
        ]
      : []),
    // A benchmark that measures inside one process of its own (its about says how) has no command table.
    ...(result.groups.length === 0
      ? []
      : [
          `Method: each command is a whole child process, spawned from the repository root with \`NODE_OPTIONS\` removed and \`NO_COLOR=1\` (${runs}; the commands of a group take turns in every round, each round starting with the next one, so drift in the machine's load and what ran just before touch them alike); every run's exit code and output are checked. Wall time is \`process.hrtime\` from spawn to exit, through \`${GNU_TIME}\` (about 1 ms of its own). ${usage}${helperUsage}`,
          '',
          mdTable(
            [
              'measurement',
              'command',
              'wall median',
              'min',
              'max',
              'CPU median',
              ...(helper === undefined ? [] : [`${helper} CPU median`]),
              'peak RSS',
            ],
            r.map((x) => [
              x.label,
              `\`${x.command}\``,
              x.median,
              x.min,
              x.max,
              x.cpu,
              ...(helper === undefined ? [] : [x.helperCpu]),
              x.rss,
            ]),
          ),
          '',
        ]),
    mdTable(
      ['ratio of medians', 'value'],
      result.ratios.map((x) => [x.name, times(x.value)]),
    ),
    '',
    mdTable(
      ['target', 'measured', 'limit', 'result'],
      result.targets.map((t) => [t.name, measured(t), limit(t), `**${verdict(t)}**`]),
    ),
    `<!-- bench:${bench.id}:end -->`,
  ].join('\n');
}

/** Replaces the benchmark's section between its markers, or appends it; the rest of the file is kept. */
function replaceSection(doc: string, id: string, body: string): string {
  const start = `<!-- bench:${id}:start -->`;
  const end = `<!-- bench:${id}:end -->`;
  const from = doc.indexOf(start);
  const to = doc.indexOf(end);
  if (from !== -1 && to > from) return `${doc.slice(0, from)}${body}${doc.slice(to + end.length)}`;
  const base = doc.trim() === '' ? REPORT_HEADER : doc;
  return `${base.trimEnd()}\n\n${body}\n`;
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      runs: { type: 'string' },
      warmup: { type: 'string' },
      'no-write': { type: 'boolean', default: false },
      'fail-on-miss': { type: 'boolean', default: false },
      small: { type: 'boolean', default: false },
    },
  });
  const count = (name: string, v: string | undefined, min: number): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name}: "${v}" is not a whole number ≥ ${min}`);
    return n;
  };
  const ctx: BenchContext = {
    root: ROOT,
    runs: count('runs', values.runs, 1),
    warmup: count('warmup', values.warmup, 0),
    small: values.small,
    log: (line) => process.stderr.write(`${line}\n`),
  };
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js')))
    throw new Error('dist/ is missing: run `npm run build` first (npm run bench does)');
  if (!existsSync(GNU_TIME))
    ctx.log(`warning: ${GNU_TIME} (GNU time) not found; peak RSS will not be measured`);
  const benches = await discover(positionals);
  const m = machine();
  ctx.log(`node ${m.node}, ${m.cpus} CPUs (${m.cpuModel}), load average ${m.load}`);
  for (const bench of benches) await bench.prepare?.(ctx);
  let misses = 0;
  for (const bench of benches) {
    ctx.log(`\nrunning ${bench.id} ...`);
    const result = await bench.run(ctx);
    printResult(bench, result);
    misses += result.targets.filter((t) => !t.pass).length;
    const other = otherShare(result);
    if (other !== undefined && other >= BUSY_SHARE)
      ctx.log(
        `\nwarning: other processes used ${pct(other)} of the machine's CPU time during the runs: wall times are inflated (CPU times less so)`,
      );
    if (!values['no-write']) {
      const doc = existsSync(REPORT) ? readFileSync(REPORT, 'utf8') : '';
      writeFileSync(REPORT, replaceSection(doc, bench.id, section(bench, result, m)));
    }
  }
  if (!values['no-write']) console.log(`\nwrote ${REPORT}`);
  return values['fail-on-miss'] && misses > 0 ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
