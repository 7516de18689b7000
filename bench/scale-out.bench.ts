// Scale out (issue #13): 50 no-op agent processes, one per BackupServer, on one PostgreSQL catalogue with
// 20,000 definitions spread over them: an apply's reach to every agent's schedule, that no definition runs
// on two agents, the catalogue's statements per minute against the number of idle agents, and their cost.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Spread, writeAgentFixture } from './agent-fixture.ts';
import type { AgentUsage } from './agent-session.ts';
import { type BenchContext, type Benchmark, machineCpu } from './harness.ts';
import {
  agentsCpuMs,
  catalogueStatements,
  cli,
  type FleetAgent,
  type ScaleRound,
  scaleRound,
  sessionStarts,
  startAgents,
  stopAgents,
} from './scale-out-fleet.ts';
import { describeScaleOut, type IdleWindow } from './scale-out-report.ts';
import { BenchServer, stopOnSignal } from './server-helpers.ts';

/** The issue's scale, and `--small`'s smoke run of it. */
interface Scale {
  readonly spread: Spread;
  /** Agents running in each idle window, growing: the fleet is started once, in steps. */
  readonly phases: readonly number[];
  readonly windowMs: number;
  readonly batch: number;
  readonly leadMs: number;
}
const FULL: Scale = {
  spread: { servers: 50, definitions: 20_000 },
  phases: [1, 10, 25, 50],
  // Six heartbeats (every 10 s) per agent, so one agent's count is not all quantisation.
  windowMs: 60_000,
  batch: 5,
  leadMs: 20_000,
};
const SMALL: Scale = {
  spread: { servers: 5, definitions: 2_000 },
  phases: [1, 5],
  windowMs: 20_000,
  batch: 5,
  leadMs: 15_000,
};
/** After a phase's last start-up, so its reconcile's heartbeat is not in the window. */
const SETTLE_MS = 3_000;
const DB = 'scale_cat';

class ScaleCatalogue extends BenchServer {
  static async start(): Promise<ScaleCatalogue> {
    // pg_stat_statements counts statements by database as they run; 50 agents hold 100 connections.
    const settings = ['shared_preload_libraries=pg_stat_statements', 'max_connections=300'];
    return new ScaleCatalogue(await BenchServer.open('bench-scale', settings));
  }
}

const sum = (values: readonly number[]): number => values.reduce((x, y) => x + y, 0);

async function idleWindow(
  pgc: ScaleCatalogue,
  fleet: readonly FleetAgent[],
  windowMs: number,
): Promise<IdleWindow> {
  await pgc.rowsIn('postgres', 'select pg_stat_statements_reset()');
  const from = fleet.map((a) => a.session.lines.length);
  const agents0 = agentsCpuMs(fleet);
  const pg0 = pgc.helper().cpuMs();
  const machine0 = machineCpu();
  const self0 = process.cpuUsage();
  const load = loadavg()[0] ?? Number.NaN;
  const t0 = performance.now();
  await sleep(windowMs);
  const statements = await catalogueStatements(pgc, DB);
  const elapsedMs = performance.now() - t0;
  const agents1 = agentsCpuMs(fleet);
  const pg1 = pgc.helper().cpuMs();
  const machine1 = machineCpu();
  const self = process.cpuUsage(self0);
  const agentCpu = agents1.map((v, i) => v - (agents0[i] ?? Number.NaN));
  const pgCpu = pg0 === undefined || pg1 === undefined ? Number.NaN : pg1 - pg0;
  const ours = sum(agentCpu) + pgCpu + (self.user + self.system) / 1000;
  const otherShare =
    machine0 === undefined || machine1 === undefined
      ? Number.NaN
      : Math.max(0, machine1.busyMs - machine0.busyMs - ours) / (machine1.totalMs - machine0.totalMs);
  return {
    agents: fleet.length,
    elapsedMs,
    statements: sum([...statements.values()]),
    byStatement: [...statements.entries()].sort((a, b) => b[1] - a[1]),
    agentCpuMs: agentCpu,
    pgCpuMs: pgCpu,
    otherShare,
    load,
    runs: sum(
      fleet.map((a, i) => a.session.lines.slice(from[i]).filter((l) => l.event === 'noop_started').length),
    ),
  };
}

const benchmark: Benchmark = {
  id: 'scale-out',
  title: 'Scale out: 50 agents on one catalogue',

  async run(ctx: BenchContext) {
    const scale = ctx.small ? SMALL : FULL;
    const { spread } = scale;
    const scratch = mkdtempSync(join(tmpdir(), 'pgbackman-bench-scale-'));
    const manifests = join(scratch, 'manifests');
    const changedDir = join(scratch, 'manifests-changed');
    const dumpRoot = join(scratch, 'dumps');
    const usageFile = join(scratch, 'cli-usage');
    const rounds = ctx.runs ?? 2;
    ctx.log('scale-out: starting a throwaway PostgreSQL (pg_stat_statements preloaded)');
    const pgc = await ScaleCatalogue.start();
    const release = stopOnSignal(() => pgc.stop());
    const fleet: FleetAgent[] = [];
    try {
      await pgc.sql('create extension pg_stat_statements');
      await pgc.sql(`create database ${DB}`);
      const url = pgc.url(DB);
      await cli(ctx.root, ['--catalogue', url, 'catalogue', 'migrate'], usageFile);
      writeAgentFixture(manifests, dumpRoot, undefined, spread);
      const objects = spread.definitions + spread.servers + 8;
      const loaded = await cli(
        ctx.root,
        ['--catalogue', url, 'apply', manifests, '--auto-approve'],
        usageFile,
      );
      if (!loaded.stdout.includes(`Objects: ${objects} added`))
        throw new Error(`apply: ${loaded.stdout.slice(-300)}`);

      const machine0 = machineCpu();
      const pg0 = pgc.helper().cpuMs();
      const self0 = process.cpuUsage();
      const windows: IdleWindow[] = [];
      for (const n of scale.phases) {
        ctx.log(`scale-out: starting agents up to ${n} (${scale.batch} at a time)`);
        await startAgents(fleet, {
          root: ctx.root,
          url,
          scratch,
          manifests,
          spread,
          to: n,
          batch: scale.batch,
          log: ctx.log,
        });
        await sleep(SETTLE_MS);
        const w = await idleWindow(pgc, fleet, scale.windowMs);
        windows.push(w);
        ctx.log(
          `  idle ${Math.round(w.elapsedMs / 1000)} s with ${n} agent(s): ${w.statements} catalogue statements (${(w.statements / (w.elapsedMs / 60_000) / n).toFixed(1)} per agent per minute)`,
        );
      }
      const results: ScaleRound[] = [];
      for (let r = 0; r < rounds; r++) {
        const result = await scaleRound(fleet, {
          root: ctx.root,
          url,
          dir: changedDir,
          dumpRoot,
          spread,
          leadMs: scale.leadMs,
          usageFile,
          helper: pgc.helper(),
        });
        results.push(result);
        ctx.log(
          `  round ${r + 1}: apply ${Math.round(result.applyMs)} ms; NOTIFY → scheduled max ${Math.round(Math.max(...result.latencies))} ms over ${result.latencies.length} agents; ${result.started}/${result.expected} started once on their own agent`,
        );
      }
      const memory = fleet.map((a) => a.session.memory());
      const starts = sessionStarts(fleet, spread);
      const startUp = {
        scheduledMs: fleet.map((a) => a.startToScheduledMs),
        reconciledMs: fleet.map((a) => a.startToReconciledMs),
      };
      ctx.log('scale-out: stopping the agents');
      const usage: AgentUsage[] = await stopAgents(fleet);
      fleet.length = 0;
      const machine1 = machineCpu();
      const pg1 = pgc.helper().cpuMs();
      const self = process.cpuUsage(self0);
      const pgCpu = pg0 === undefined || pg1 === undefined ? Number.NaN : pg1 - pg0;
      const ours =
        sum(usage.map((u) => u.cpuMs ?? 0)) +
        pgCpu +
        (self.user + self.system) / 1000 +
        sum(results.map((r) => r.applyCpuMs));
      return describeScaleOut({
        command: `npm run bench -- scale-out${ctx.small ? ' --small' : ''}${ctx.runs === undefined ? '' : ` --runs ${ctx.runs}`}`,
        small: ctx.small,
        version: pgc.version,
        spread,
        batch: scale.batch,
        windowMs: scale.windowMs,
        leadMs: scale.leadMs,
        windows,
        rounds: results,
        usage,
        memory,
        startUp,
        starts,
        pgCpuMs: pgCpu,
        otherShare:
          machine0 === undefined || machine1 === undefined
            ? undefined
            : Math.max(0, machine1.busyMs - machine0.busyMs - ours) / (machine1.totalMs - machine0.totalMs),
      });
    } finally {
      for (const a of fleet) a.session.kill();
      release();
      ctx.log('scale-out: stopping the throwaway PostgreSQL');
      await pgc.stop();
      rmSync(scratch, { recursive: true, force: true });
    }
  },
};

export default benchmark;
