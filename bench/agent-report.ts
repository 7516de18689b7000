// The agent benchmark's figures, targets and prose for BENCHMARKS.md.
import { AGENT_SERVER, CHANGE_EVERY, DEFINITIONS, NODE_LIMIT, NODES, SERVER_LIMIT } from './agent-fixture.ts';
import { percentile, type RoundResult } from './agent-rounds.ts';
import { type BenchResult, type MeasuredGroup, medianWall, stats, type Target, target } from './harness.ts';

const RSS_LIMIT_MIB = 150;
const BUILD_LIMIT_MS = 1000;
const RESCHEDULE_LIMIT_MS = 200;
const START_DELAY_LIMIT_MS = 250;
/** `get backups` from another process while the agent serves the embedded catalogue. */
const SERVED_GET_LIMIT_MS = 300;

type Memory = { hwmKiB: number; rssKiB: number } | undefined;

export interface AgentFigures {
  /** The command line that produced these figures. */
  readonly command: string;
  readonly version: string;
  readonly probe: MeasuredGroup;
  readonly session: MeasuredGroup;
  readonly withAgent: MeasuredGroup;
  readonly without: MeasuredGroup;
  /** `get backups` on the embedded catalogue while the agent serves it, then with the agent stopped. */
  readonly embeddedWith: MeasuredGroup;
  readonly embeddedWithout: MeasuredGroup;
  readonly embeddedDefinitions: number;
  readonly rounds: readonly RoundResult[];
  /** `agent_starting` → the first `scheduled` line: registration, readServerWork, settleOnStart, sync. */
  readonly startToScheduledMs: number;
  /** The first `scheduled` → `reconciled`: the watched directory's digest, validate and apply (unchanged). */
  readonly scheduledToReconciledMs: number;
  /** The agent's CPU time over an idle window of idleMs after the reconcile. */
  readonly idleCpuMs: number;
  readonly idleMs: number;
  readonly memory: { readonly scheduled: Memory; readonly reconciled: Memory; readonly rounds: Memory };
}

interface ProbeRound {
  readonly build: { readMs: number; syncMs: number; totalMs: number; entries: number; added: number };
  readonly reschedule: { readMs: number; syncMs: number; totalMs: number; changed: number };
  readonly rssKiB: number;
}

const ms = (v: number): string => `${Math.round(v)} ms`;
const mib = (kib: number | undefined): string => (kib === undefined ? '?' : `${Math.round(kib / 1024)} MiB`);

export function describeAgent(f: AgentFigures): BenchResult {
  const probeOut = f.probe.measurements[0]?.stdout ?? '';
  const probe = probeOut.split('\n').map((l) => JSON.parse(l) as ProbeRound);
  const med = (values: readonly number[]) => stats(values).median;
  const build = med(probe.map((p) => p.build.totalMs));
  const buildRead = med(probe.map((p) => p.build.readMs));
  const buildSync = med(probe.map((p) => p.build.syncMs));
  const resched = med(probe.map((p) => p.reschedule.totalMs));
  const reschedRead = med(probe.map((p) => p.reschedule.readMs));
  const reschedSync = med(probe.map((p) => p.reschedule.syncMs));
  const notifyToScheduled = med(f.rounds.map((r) => r.rescheduleMs));
  const delays = f.rounds.flatMap((r) => r.delays);
  const p50 = percentile(delays, 50);
  const p99 = percentile(delays, 99);
  const peakKiB = f.session.measurements[0]?.maxRssKiB[0] ?? Number.NaN;
  const peak = peakKiB / 1024;
  const getWith = medianWall(f.withAgent, 'get backups, agent running');
  const getWithout = medianWall(f.without, 'get backups, no agent');
  const servedWith = medianWall(f.embeddedWith, 'get backups, embedded, agent serving');
  const servedWithout = medianWall(f.embeddedWithout, 'get backups, embedded, no agent');
  const targets: Target[] = [
    target('agent peak RSS (whole session)', peak, RSS_LIMIT_MIB, 'MiB'),
    target(
      'schedule built: readServerWork + Scheduler.sync, 20,000 entries (probe median)',
      build,
      BUILD_LIMIT_MS,
      'ms',
    ),
    target(
      'schedule built on the agent\'s start: agent_starting → first "scheduled"',
      f.startToScheduledMs,
      BUILD_LIMIT_MS,
      'ms',
    ),
    target(
      'reschedule after 1%: NOTIFY → the agent\'s "scheduled" (median of rounds)',
      notifyToScheduled,
      RESCHEDULE_LIMIT_MS,
      'ms',
    ),
    target(
      'reschedule after 1%: readServerWork + sync on the changed catalogue (probe median)',
      resched,
      RESCHEDULE_LIMIT_MS,
      'ms',
    ),
    target(`start delay p50 (${delays.length} starts)`, p50, START_DELAY_LIMIT_MS, 'ms'),
    target(`start delay p99 (${delays.length} starts)`, p99, START_DELAY_LIMIT_MS, 'ms'),
    target(
      'get backups from another process while the agent serves the embedded catalogue, median',
      servedWith,
      SERVED_GET_LIMIT_MS,
      'ms',
    ),
  ];
  const n = DEFINITIONS.toLocaleString('en-US');
  const changed = DEFINITIONS / CHANGE_EVERY;
  const { scheduled, reconciled, rounds } = f.memory;
  return {
    about: [
      `Produced by \`${f.command}\` (the machine's load is below; other helpers' tests share it).`,
      `Input: written by \`bench/agent-fixture.ts\`: one BackupServer \`${AGENT_SERVER}\` (maxConcurrentDumps ${SERVER_LIMIT}, time zone UTC), ${NODES} PgSQLNodes (maxConcurrentDumps ${NODE_LIMIT} each) and ${n} BackupDefinitions on that server in 20 files, each due daily at its own second of the day (6-field cron \`S M H * * *\`, 86,400 s / ${n}: one every 4.3 s, so a few fall due during the run). Catalogue: a throwaway PostgreSQL ${f.version} cluster (as the catalogue benchmark's), migrated and loaded with the real \`pgbackman apply\`.`,
      `**The agent** is \`bench/agent-driver.mjs\`: the \`pgbackman agent\` command itself (\`runAgent\` from \`dist/\`, plain JS, loaded after the CLI's own module and the agent's memory policy as \`bin/pgbackman.js\` does, so it holds what the real process holds: the schedule cache in its state directory, the HTTP listener with its metrics) with a \`--watch\` directory source on the same manifests, \`apply: true\`, an interval of 1 h, and a no-op executor (benchmark only: it logs \`noop_started\` with a sub-millisecond wall clock and returns SUCCEEDED without touching pg_dump or the catalogue), run under \`/usr/bin/time\` for its peak RSS; its JSON log lines are read as they come. It starts (registers, reads the schedule, settles interrupted runs, schedules), then reconciles its directory (digest, validate ${n} manifests, apply: unchanged). Start → first \`scheduled\` line: ${ms(f.startToScheduledMs)}; first \`scheduled\` → \`reconciled\`: ${ms(f.scheduledToReconciledMs)}. Then idle for ${f.idleMs / 1000} s (no apply; only the few spread definitions due): the agent used ${ms(f.idleCpuMs)} of CPU (${Math.round((f.idleCpuMs / f.idleMs) * 100)}% of one CPU), from \`/proc/PID/stat\`. Its memory from \`/proc/PID/status\` (peak so far / current): after the first schedule ${mib(scheduled?.hwmKiB)} / ${mib(scheduled?.rssKiB)}, after the reconcile ${mib(reconciled?.hwmKiB)} / ${mib(reconciled?.rssKiB)}, after the rounds ${mib(rounds?.hwmKiB)} / ${mib(rounds?.rssKiB)}.`,
      `**1% change and start delay** (${f.rounds.length} rounds): the bench picks a whole second T about 15 s ahead, writes the manifests again with every ${CHANGE_EVERY}th definition (${changed}, ${changed / NODES} per node) due daily at T, and runs \`pgbackman apply\` on them from another process (another directory: the agent's own source is left as it was, as when CI applies). **Reschedule** is from the apply's NOTIFY, as a LISTEN of the bench's own receives it, to the agent's \`scheduled\` log line (pino's millisecond time) reporting ${changed} changed: NOTIFY → agent's LISTEN → readServerWork → Scheduler.sync. **Start delay** is each of those ${changed} no-op executors' start minus T. Per round (apply wall / reschedule / start delay p50, max): ${f.rounds.map((r) => `${ms(r.applyMs)} / ${ms(r.rescheduleMs)} / ${ms(percentile(r.delays, 50))}, ${ms(Math.max(...r.delays))}`).join('; ')}.`,
      `**Schedule probe** is \`bench/schedule-probe.mjs\`: in one process, with the agent's own \`readServerWork\` and \`Scheduler\` from \`dist/\`, ${probe.length} rounds of: a fresh Scheduler synced with every entry read from \`agent_cat\` (build), then read again from \`agent_changed\` (a clone with the 1% applied) and synced into it (reschedule: ${changed} timers restarted). Medians: build ${ms(build)} (readServerWork ${ms(buildRead)}, sync ${ms(buildSync)}); reschedule ${ms(resched)} (readServerWork ${ms(reschedRead)}, sync ${ms(reschedSync)}); the probe's RSS after a round ${mib(probe.at(-1)?.rssKiB)}. The agent's own first schedule also runs \`settleOnStart\` between the two, once per entry.`,
      `**get backups** (${f.withAgent.runs} runs after a warm-up each): \`pgbackman get backups\` from another process while the agent holds its connections to the catalogue (a LISTEN and its link), then after it stopped: ${ms(getWith)} vs ${ms(getWithout)}. **On the embedded catalogue**: a second agent with no \`--catalogue\` (so the embedded one in its state directory, which it serves to other processes over its socket) on ${f.embeddedDefinitions.toLocaleString('en-US')} definitions of the same shape, after its first reconcile applied them; \`get backups --catalogue STATE/catalogue\` from another process while it runs (through the agent), then after it stopped (the command opens PGlite itself): ${ms(servedWith)} vs ${ms(servedWithout)}.`,
    ],
    reproduce: [
      'npm run bench -- agent            # this benchmark only; --runs N sets the rounds of the 1% change (2)',
      'PG=postgres://postgres@127.0.0.1:5432/agent_cat',
      'node bin/pgbackman.js --catalogue $PG catalogue migrate',
      'node bin/pgbackman.js --catalogue $PG apply DIR --auto-approve   # DIR: writeAgentFixture() in bench/agent-fixture.ts',
      `/usr/bin/time -v node bench/agent-driver.mjs --server ${AGENT_SERVER} --catalogue $PG --watch DIR --state-dir /tmp/agent-state`,
      `node bench/schedule-probe.mjs --server ${AGENT_SERVER} --base $PG --changed $PG_CHANGED`,
    ],
    groups: [f.session, f.probe, f.withAgent, f.without, f.embeddedWith, f.embeddedWithout],
    ratios: [
      ...targets.map((t) => ({ name: `${t.name} / target`, value: t.measured / t.limit })),
      { name: 'get backups, agent running / no agent', value: getWith / getWithout },
      {
        name: 'get backups, embedded: agent serving / no agent (opening PGlite itself)',
        value: servedWith / servedWithout,
      },
    ],
    targets,
  };
}
