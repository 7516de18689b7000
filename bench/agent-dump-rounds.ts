// The agent-dump benchmark's rounds: one scheduled dump inside a running `pgbackman agent`, then the bare
// `pg_dump -Fc -f` of the same database (their order swapped every round), for each database in turn.
import { rmSync } from 'node:fs';
import type { AgentLine, AgentSession } from './agent-session.ts';
import {
  type CommandSpec,
  type Helper,
  type MeasuredGroup,
  type Measurement,
  machineCpu,
  measureGroup,
  processTreeCpuMs,
} from './harness.ts';

/** How far ahead of now a dump is scheduled: the watched directory's re-read, apply and reschedule fit in it. */
const LEAD_MS = 6_000;

/** One database's pair: its definition's name, the bare pg_dump, and where the agent's dumps go. */
export interface AgentPair {
  readonly name: string;
  readonly bare: CommandSpec;
  readonly agentDumps: string;
}

/** What each agent run adds to a plain measurement: due → run_started, and the run's recorded duration. */
export interface AgentRuns {
  readonly startDelayMs: number[];
  readonly durationMs: number[];
  /** Each measured round's agent wall time over the bare one's: the two ran back to back. */
  readonly pairRatios: number[];
}

export interface RoundsOptions {
  readonly root: string;
  readonly runs: number;
  readonly warmup: number;
  readonly log: (line: string) => void;
  readonly helper: Helper;
  /** Writes the watched manifests with `name` due at `cron` (6 fields, UTC) and the others idle. */
  readonly schedule: (name: string, cron: string) => void;
  readonly shownAgent: string;
}

const timeOf = (l: AgentLine): number => (typeof l.time === 'number' ? l.time : Date.parse(l.time));
const isRun = (name: string, event: string) => (l: AgentLine) =>
  l.event === event && (l.definition === name || (l.definition ?? '').endsWith(`/${name}`));
const cronAt = (t: number): string => {
  const d = new Date(t);
  return `${d.getUTCSeconds()} ${d.getUTCMinutes()} ${d.getUTCHours()} * * *`;
};

interface AgentRun {
  readonly wallMs: number;
  readonly startDelayMs: number;
  readonly durationMs: number;
  readonly cpuMs: number | undefined;
  readonly helperCpuMs: number | undefined;
  readonly hwmKiB: number | undefined;
}

/** One scheduled dump: due at a whole second LEAD_MS ahead; measured from that due time to run_finished. */
async function agentRun(session: AgentSession, pair: AgentPair, o: RoundsOptions): Promise<AgentRun> {
  rmSync(pair.agentDumps, { recursive: true, force: true });
  const from = session.lines.length;
  const due = Math.ceil((Date.now() + LEAD_MS) / 1000) * 1000;
  o.schedule(pair.name, cronAt(due));
  // Applied before due, or the timer (armed by the reschedule that follows) may miss it: run_started says.
  const applied = await session.waitFor((l) => l.event === 'reconciled', 60_000, from);
  if (timeOf(applied) >= due)
    throw new Error(`${pair.name}: applied at ${applied.time}, after its due time: raise LEAD_MS`);
  const pid = session.pid as number;
  const cpuBefore = processTreeCpuMs(pid);
  const helperBefore = o.helper.cpuMs();
  const started = await session.waitFor(isRun(pair.name, 'run_started'), LEAD_MS + 60_000, from);
  const finished = await session.waitFor(isRun(pair.name, 'run_finished'), 15 * 60_000, from);
  const cpuAfter = processTreeCpuMs(pid);
  const helperAfter = o.helper.cpuMs();
  if (finished.status !== 'SUCCEEDED') throw new Error(`${pair.name}: the agent's run ${finished.status}`);
  const diff = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined ? undefined : b - a;
  return {
    wallMs: timeOf(finished) - due,
    startDelayMs: timeOf(started) - due,
    durationMs: finished.durationMs ?? Number.NaN,
    cpuMs: diff(cpuBefore, cpuAfter),
    helperCpuMs: diff(helperBefore, helperAfter),
    hwmKiB: session.memory()?.hwmKiB,
  };
}

type Series = { wallMs: number[]; maxRssKiB: number[]; cpuMs: number[]; helperCpuMs: number[] };
const series = (): Series => ({ wallMs: [], maxRssKiB: [], cpuMs: [], helperCpuMs: [] });
const push = (list: number[], v: number | undefined) => {
  if (v !== undefined && !Number.isNaN(v)) list.push(v);
};

/** Runs the rounds; the group's first measurement of each pair is the agent's, the second the bare pg_dump's. */
export async function agentRounds(
  session: AgentSession,
  pairs: readonly AgentPair[],
  o: RoundsOptions,
): Promise<{ group: MeasuredGroup; extra: Map<string, AgentRuns> }> {
  const agent = pairs.map(series);
  const bare = pairs.map(series);
  const extra = new Map(
    pairs.map((p) => [p.name, { startDelayMs: [], durationMs: [], pairRatios: [] } as AgentRuns]),
  );
  const lastBare = pairs.map(() => '');
  const pid = session.pid as number;
  const machineBefore = machineCpu();
  const selfBefore = process.cpuUsage();
  const agentBefore = processTreeCpuMs(pid);
  const helperBefore = o.helper.cpuMs();
  let bareCpu = 0;
  for (let round = 0; round < o.warmup + o.runs; round++) {
    const measured = round >= o.warmup;
    const said: string[] = [];
    for (const [i, pair] of pairs.entries()) {
      const runAgent = async () => {
        const r = await agentRun(session, pair, o);
        said.push(`agent ${pair.name} ${Math.round(r.wallMs)} ms (start +${Math.round(r.startDelayMs)} ms)`);
        if (!measured) return;
        const s = agent[i] as Series;
        push(s.wallMs, r.wallMs);
        push(s.cpuMs, r.cpuMs);
        push(s.helperCpuMs, r.helperCpuMs);
        push(s.maxRssKiB, r.hwmKiB);
        extra.get(pair.name)?.startDelayMs.push(r.startDelayMs);
        extra.get(pair.name)?.durationMs.push(r.durationMs);
      };
      const runBare = async () => {
        const g = await measureGroup([pair.bare], { ...o, runs: 1, warmup: 0, log: () => undefined });
        const m = g.measurements[0] as Measurement;
        bareCpu += m.cpuMs[0] ?? 0;
        said.push(`${pair.bare.label} ${Math.round(m.wallMs[0] ?? Number.NaN)} ms`);
        lastBare[i] = m.stdout;
        if (!measured) return;
        const s = bare[i] as Series;
        s.wallMs.push(...m.wallMs);
        s.cpuMs.push(...m.cpuMs);
        s.helperCpuMs.push(...m.helperCpuMs);
        s.maxRssKiB.push(...m.maxRssKiB);
      };
      // Swapped every round, so neither always finds the other's pages in the cache.
      for (const step of round % 2 === 0 ? [runAgent, runBare] : [runBare, runAgent]) await step();
    }
    o.log(`  ${measured ? `run ${round - o.warmup + 1}/${o.runs}` : 'warm-up'}: ${said.join(', ')}`);
  }
  for (const [i, pair] of pairs.entries()) {
    const a = (agent[i] as Series).wallMs;
    const b = (bare[i] as Series).wallMs;
    for (let k = 0; k < Math.min(a.length, b.length); k++)
      extra.get(pair.name)?.pairRatios.push((a[k] as number) / (b[k] as number));
  }
  const machineAfter = machineCpu();
  const self = process.cpuUsage(selfBefore);
  const agentAfter = processTreeCpuMs(pid);
  const helperAfter = o.helper.cpuMs();
  let otherCpuShare: number | undefined;
  if (
    machineBefore &&
    machineAfter &&
    agentBefore !== undefined &&
    agentAfter !== undefined &&
    helperBefore !== undefined &&
    helperAfter !== undefined
  ) {
    const ours =
      bareCpu + (agentAfter - agentBefore) + (helperAfter - helperBefore) + (self.user + self.system) / 1000;
    const total = machineAfter.totalMs - machineBefore.totalMs;
    const busy = machineAfter.busyMs - machineBefore.busyMs;
    otherCpuShare = total > 0 ? Math.max(0, busy - ours) / total : undefined;
  }
  const measurements: Measurement[] = pairs.flatMap((pair, i) => [
    {
      spec: {
        label: `agent ${pair.name}`,
        command: ['node', 'bin/pgbackman.js', 'agent'],
        shown: o.shownAgent,
      },
      ...(agent[i] as Series),
      stdout: '',
    },
    { spec: pair.bare, ...(bare[i] as Series), stdout: lastBare[i] ?? '' },
  ]);
  return {
    group: { runs: o.runs, warmup: o.warmup, otherCpuShare, helper: o.helper.name, measurements },
    extra,
  };
}
