// The scale-out benchmark's figures, targets and prose for BENCHMARKS.md.
import { CHANGE_EVERY, NODES, type Spread, serverName } from './agent-fixture.ts';
import { percentile } from './agent-rounds.ts';
import type { AgentUsage } from './agent-session.ts';
import { type BenchResult, type MeasuredGroup, stats, type Target, target } from './harness.ts';
import type { ScaleRound } from './scale-out-fleet.ts';

const REACH_LIMIT_MS = 1000;
/** "Grow linearly": one agent's share of the statements at the largest fleet against a lone agent's. */
const LINEAR_LIMIT = 1.1;

/** One idle window: what the catalogue ran and what the agents and PostgreSQL spent, with `agents` running. */
export interface IdleWindow {
  readonly agents: number;
  readonly elapsedMs: number;
  readonly statements: number;
  /** Statement text (pg_stat_statements' normalised form) and calls, most first. */
  readonly byStatement: readonly (readonly [string, number])[];
  readonly agentCpuMs: readonly number[];
  readonly pgCpuMs: number;
  readonly otherShare: number;
  /** The 1-minute load average when the window started. */
  readonly load: number;
  /** No-op dumps started in the window (the spread definitions that fell due). */
  readonly runs: number;
}

export interface ScaleFigures {
  readonly command: string;
  readonly small: boolean;
  readonly version: string;
  readonly spread: Spread;
  readonly batch: number;
  readonly windowMs: number;
  readonly leadMs: number;
  readonly windows: readonly IdleWindow[];
  readonly rounds: readonly ScaleRound[];
  /** Each agent's whole session (GNU time), in fleet order. */
  readonly usage: readonly AgentUsage[];
  /** Each agent's peak and current RSS from /proc just before the stop. */
  readonly memory: readonly ({ hwmKiB: number; rssKiB: number } | undefined)[];
  readonly startUp: { readonly scheduledMs: readonly number[]; readonly reconciledMs: readonly number[] };
  readonly starts: { starts: number; definitions: number; misplaced: number };
  readonly pgCpuMs: number;
  readonly otherShare: number | undefined;
}

const ms = (v: number): string => `${Math.round(v)} ms`;
const mib = (kib: number): string => `${Math.round(kib / 1024)} MiB`;
const perMinute = (count: number, elapsedMs: number): number => count / (elapsedMs / 60_000);
const fixed = (v: number, digits = 1): string => (Number.isNaN(v) ? '-' : v.toFixed(digits));
const pct = (v: number): string => (Number.isNaN(v) ? '-' : `${Math.round(v * 100)}%`);
const table = (header: readonly string[], body: readonly (readonly string[])[]): string =>
  [header, header.map(() => '---'), ...body].map((r) => `| ${r.join(' | ')} |`).join('\n');

/** Per agent per minute, at a window. */
const shareOf = (w: IdleWindow): number => perMinute(w.statements, w.elapsedMs) / w.agents;

export function describeScaleOut(f: ScaleFigures): BenchResult {
  const { servers, definitions } = f.spread;
  const n = servers;
  const perServer = definitions / servers;
  const changed = definitions / CHANGE_EVERY;
  const first = f.windows[0];
  const last = f.windows[f.windows.length - 1];
  if (first === undefined || last === undefined) throw new Error('no idle window');
  const linear = shareOf(last) / shareOf(first);
  const worst = Math.max(...f.rounds.map((r) => Math.max(...r.latencies)));
  const notOnce = f.rounds.reduce((x, r) => x + (r.expected - r.started), 0);
  const expected = f.rounds.reduce((x, r) => x + r.expected, 0);
  const rss = f.usage.flatMap((u) => (u.maxRssKiB === undefined ? [] : [u.maxRssKiB]));
  const cpu = f.usage.flatMap((u) => (u.cpuMs === undefined ? [] : [u.cpuMs]));
  const current = f.memory.flatMap((m) => (m === undefined ? [] : [m.rssKiB]));
  const med = (values: readonly number[]) => stats(values).median;
  const max = (values: readonly number[]) => stats(values).max;
  const targets: Target[] = [
    target(
      `apply → every agent's "scheduled": max over ${n} agents, worst of ${f.rounds.length} rounds`,
      worst,
      REACH_LIMIT_MS,
      'ms',
    ),
    target(
      `definitions due at T not started exactly once on their own server's agent (of ${expected})`,
      notOnce,
      0,
      'runs',
    ),
    target(
      `no-op starts on another server's agent, whole session (of ${f.starts.starts})`,
      f.starts.misplaced,
      0,
      'runs',
    ),
    target(
      `catalogue statements per agent per minute, ${last.agents} agents / 1 agent`,
      linear,
      LINEAR_LIMIT,
      '×',
    ),
  ];
  const session: MeasuredGroup = {
    runs: f.usage.length,
    warmup: 0,
    otherCpuShare: f.otherShare,
    helper: undefined,
    measurements: [
      {
        spec: {
          label: `agent session (each of ${f.usage.length})`,
          command: ['node', 'bench/agent-driver.mjs'],
          shown: `node bench/agent-driver.mjs --server ${serverName(0, f.spread)} --catalogue $PG/scale_cat --watch DIR --retention-interval 0 --state-dir DIR`,
        },
        wallMs: f.usage.map((u) => u.wallMs),
        maxRssKiB: rss,
        cpuMs: cpu,
        helperCpuMs: [],
        stdout: '',
      },
      {
        spec: {
          label: `pgbackman apply, 1% change over ${n} servers`,
          command: ['node', 'bin/pgbackman.js'],
          shown: 'node bin/pgbackman.js --catalogue $PG/scale_cat apply DIR --auto-approve',
        },
        wallMs: f.rounds.map((r) => r.applyMs),
        maxRssKiB: f.rounds.flatMap((r) => (r.applyRssKiB === undefined ? [] : [r.applyRssKiB])),
        cpuMs: f.rounds.map((r) => r.applyCpuMs),
        helperCpuMs: [],
        stdout: '',
      },
    ],
  };
  const windowRows = f.windows.map((w) => [
    String(w.agents),
    `${fixed(w.elapsedMs / 1000)} s`,
    String(w.statements),
    fixed(perMinute(w.statements, w.elapsedMs)),
    fixed(shareOf(w), 2),
    `${fixed(shareOf(w) / shareOf(first), 2)}×`,
    `${Math.round(perMinute(w.pgCpuMs, w.elapsedMs))} ms`,
    `${Math.round(perMinute(med(w.agentCpuMs), w.elapsedMs))} ms`,
    String(w.runs),
    pct(w.otherShare),
    fixed(w.load, 2),
  ]);
  const top = last.byStatement
    .slice(0, 6)
    .map(([text, calls]) => `${calls} × \`${text.replace(/\s+/g, ' ').slice(0, 110)}\``)
    .join('; ');
  const roundRows = f.rounds.map((r, i) => [
    String(i + 1),
    ms(r.applyMs),
    ms(percentile(r.latencies, 50)),
    ms(Math.max(...r.latencies)),
    `${r.started} / ${r.expected}`,
    String(r.missing),
    String(r.duplicates),
    String(r.misplaced),
    `${ms(r.rescheduleCpuMs.reduce((x, y) => x + y, 0))} (max ${ms(Math.max(...r.rescheduleCpuMs))})`,
    pct(r.otherShare),
  ]);
  const small = f.small
    ? ` (**\`--small\`**: ${n} servers and ${definitions.toLocaleString('en-US')} definitions, not the issue's 50 and 20,000)`
    : '';
  const d = definitions.toLocaleString('en-US');
  return {
    about: [
      `Produced by \`${f.command}\`${small}. The machine is shared with other work: its load is below, and each idle window's other processes' share of the CPU is in the table.`,
      `Input: written by \`bench/agent-fixture.ts\` with a spread: ${n} BackupServers \`${serverName(0, f.spread)}\` … \`${serverName(n - 1, f.spread)}\` (time zone UTC), ${NODES} PgSQLNodes and ${d} BackupDefinitions, ${perServer} on each server (contiguous blocks), each due daily at its own second of the day (86,400 s / ${d}, so a server's ${perServer} fall in about ${Math.round((perServer * 86_400) / definitions / 60)} minutes of the day and only one or two servers have a spread definition due during a run). Catalogue: a throwaway PostgreSQL ${f.version} cluster (as the other agent benchmarks'), with \`shared_preload_libraries=pg_stat_statements\` and \`max_connections=300\` (each agent holds two connections: its link and its LISTEN), migrated and loaded with the real \`pgbackman apply\`.`,
      `**The fleet**: ${n} processes of \`bench/agent-driver.mjs\` (the \`pgbackman agent\` command from \`dist/\` with a no-op executor, \`apply: true\`, reconcile interval 1 h, heartbeat every 10 s, no retention sweeps: no-op dumps leave nothing to sweep, and a sweep after each would count the dumps' statements, not the agents'; run under \`/usr/bin/time\`), one per server, on this one machine; each has its own state directory and its own copy of the same manifests as its watched directory (as every agent of a fleet watches the same repository). They are started ${f.batch} at a time, the next batch when this one has logged \`reconciled\`, and in steps (${f.windows.map((w) => w.agents).join(', ')} running) with an idle window after each. Each agent's start-up: \`agent_starting\` → its first \`scheduled\` (${perServer} entries) median ${ms(med(f.startUp.scheduledMs))}, max ${ms(max(f.startUp.scheduledMs))}; → \`reconciled\` (its directory's ${d} manifests validated and planned: unchanged) median ${ms(med(f.startUp.reconciledMs))}, max ${ms(max(f.startUp.reconciledMs))}.`,
      `**Catalogue statements per minute, idle** (nothing applied; only the spread definitions fall due): before each window the bench resets \`pg_stat_statements\` and after it sums \`calls\` of every statement run in the catalogue database. pg_stat_statements rather than \`pg_stat_database\`: it counts each statement when it runs (PostgreSQL 15's \`xact_commit\` is flushed by idle backends only every few seconds, and counts transactions, not statements), the bench reads it from the \`postgres\` database so its own reads are not counted, and its text says which statements they are. PostgreSQL CPU is the server's process tree's (\`/proc\`), agent CPU each agent's Node process's, both per minute of the window (an agent's first minute after its start-up still has the start-up's garbage to collect).\n\n${table(['agents', 'window', 'statements', 'per minute', 'per agent per minute', 'per agent vs 1 agent', 'PostgreSQL CPU per minute', 'agent CPU per minute (median)', 'no-op runs', 'other processes', 'load (1 min)'], windowRows)}\n\nWith ${last.agents} agents the statements were: ${top}.`,
      `**Apply → every schedule** (${f.rounds.length} rounds): the bench picks a whole second T about ${f.leadMs / 1000} s ahead, writes the manifests again with every ${CHANGE_EVERY}th definition (${changed}: ${changed / n} on each of the ${n} servers) due daily at T, and runs \`pgbackman apply\` on them from another process and directory (the agents' own directories are left as they were). The apply NOTIFYs once per server; a LISTEN of the bench's own notes when each server's NOTIFY arrives, and the figure is from there to that server's agent's \`scheduled\` line (pino's millisecond time) reporting ${changed / n} changed. **No definition runs on two agents**: every \`noop_started\` line of every agent after the apply is collected until all ${changed} changed definitions started (or 30 s after T), and 2 s more; each must have started exactly once, on its own server's agent. The agents' CPU is theirs (\`/proc\`) from the apply's start to the last \`scheduled\` line, summed and the largest one's: all ${n} agents wake at the same NOTIFY and share this machine's CPUs, so the slowest agent's figure includes waiting for the others' CPU, which agents on hosts of their own would not.\n\n${table(['round', 'apply wall', 'NOTIFY → scheduled p50', 'max', 'started once on own agent', 'not started', 'extra starts', 'on another agent', "agents' CPU, all (one)", 'other processes'], roundRows)}\n\nOver the whole session ${f.starts.starts} no-op dumps started (${f.starts.definitions} definitions; the changed ones once per round), ${f.starts.misplaced} of them on an agent that is not their server's.`,
      `**Cost of the agents** (over the ${f.usage.length}): whole-session peak RSS (GNU time) median ${mib(med(rss))}, max ${mib(max(rss))}; RSS just before the stop median ${mib(med(current))}, max ${mib(max(current))}; CPU over the whole session (start-up, idle windows, rounds) median ${ms(med(cpu))}, max ${ms(max(cpu))}, most of it the start-up's validation of ${d} manifests. PostgreSQL's CPU over the same time: ${ms(f.pgCpuMs)}.`,
    ],
    reproduce: [
      'npm run bench -- scale-out            # --runs N sets the rounds of the 1% change (2); --small: 5 servers, 2,000 definitions',
      'PG=postgres://postgres@127.0.0.1:5432/scale_cat   # a cluster with shared_preload_libraries=pg_stat_statements',
      'node bin/pgbackman.js --catalogue $PG catalogue migrate',
      `node bin/pgbackman.js --catalogue $PG apply DIR --auto-approve   # DIR: writeAgentFixture(DIR, ROOT, undefined, { servers: ${n}, definitions: ${definitions} })`,
      `for s in $(seq -w 1 ${n}); do node bench/agent-driver.mjs --server bk-agent-$s --catalogue $PG --watch DIR --state-dir /tmp/agent-$s & done`,
      "psql $PG -c 'select sum(calls) from pg_stat_statements s join pg_database d on d.oid = s.dbid where d.datname = current_database()'",
    ],
    groups: [session],
    ratios: [
      ...targets
        .filter((t) => t.limit > 0)
        .map((t) => ({ name: `${t.name} / target`, value: t.measured / t.limit })),
      ...f.windows.map((w) => ({
        name: `statements per agent per minute, ${w.agents} agents / 1 agent`,
        value: shareOf(w) / shareOf(first),
      })),
    ],
    targets,
  };
}
