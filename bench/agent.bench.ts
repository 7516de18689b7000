// One agent with 20,000 scheduled BackupDefinitions on one server (PostgreSQL catalogue, no-op executor):
// its peak RSS, the schedule built from the catalogue, the reschedule after a 1% change, the start delay of
// 200 dumps due in the same second, and `get backups` with and without the agent on the catalogue.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { AGENT_SERVER, writeAgentFixture } from './agent-fixture.ts';
import { describeAgent } from './agent-report.ts';
import { changeRound, type RoundResult } from './agent-rounds.ts';
import { AgentSession, sessionGroup } from './agent-session.ts';
import {
  type BenchContext,
  type Benchmark,
  type CommandSpec,
  machineCpu,
  measureGroup,
  processTreeCpuMs,
} from './harness.ts';
import { BenchServer, stopOnSignal } from './server-helpers.ts';

const run = promisify(execFile);
/** Each probe round schedules 20,000 definitions from the catalogue. */
const PROBE_ROUNDS = 3;
const IDLE_MS = 30_000;
const DB = { base: 'agent_cat', changed: 'agent_changed' } as const;
/** The embedded catalogue's phase: fewer definitions, since the agent applies them into PGlite first. */
const EMBEDDED_DEFINITIONS = 1_000;

class AgentCatalogue extends BenchServer {
  static async start(): Promise<AgentCatalogue> {
    return new AgentCatalogue(await BenchServer.open('bench-agent'));
  }
}

async function cli(root: string, argv: readonly string[]): Promise<string> {
  const { NODE_OPTIONS: _ignored, ...env } = process.env;
  const { stdout } = await run(process.execPath, ['bin/pgbackman.js', ...argv], {
    cwd: root,
    env: { ...env, NO_COLOR: '1' },
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
}

const benchmark: Benchmark = {
  id: 'agent',
  title: 'The agent: 20,000 definitions on one server',

  async run(ctx: BenchContext) {
    const scratch = mkdtempSync(join(tmpdir(), 'pgbackman-bench-agent-'));
    const watched = join(scratch, 'manifests');
    const changedDir = join(scratch, 'manifests-changed');
    const dumpRoot = join(scratch, 'dumps');
    const rounds = ctx.runs ?? 2;
    ctx.log('agent: starting a throwaway PostgreSQL');
    const pgc = await AgentCatalogue.start();
    const release = stopOnSignal(() => pgc.stop());
    let agent: AgentSession | undefined;
    try {
      const url = pgc.url(DB.base);
      await pgc.sql(`create database ${DB.base}`);
      await cli(ctx.root, ['--catalogue', url, 'catalogue', 'migrate']);
      writeAgentFixture(watched, dumpRoot);
      const applied = await cli(ctx.root, ['--catalogue', url, 'apply', watched, '--auto-approve']);
      if (!applied.includes('Objects: 20009 added')) throw new Error(`apply: ${applied.slice(-300)}`);
      // The probe's "changed" catalogue: a clone with the 1% applied.
      await pgc.sql(`create database ${DB.changed} template ${DB.base}`);
      writeAgentFixture(changedDir, dumpRoot, '0 0 12 * * *');
      await cli(ctx.root, ['--catalogue', pgc.url(DB.changed), 'apply', changedDir, '--auto-approve']);

      ctx.log('agent: schedule probe (readServerWork + Scheduler.sync in one process)');
      const probeArgv = [
        'bench/schedule-probe.mjs',
        '--server',
        AGENT_SERVER,
        '--rounds',
        String(PROBE_ROUNDS),
      ];
      const probeSpec: CommandSpec = {
        label: `schedule probe (${PROBE_ROUNDS} rounds)`,
        command: ['node', ...probeArgv, '--base', url, '--changed', pgc.url(DB.changed)],
        shown: `node ${probeArgv.join(' ')} --base $PG/${DB.base} --changed $PG/${DB.changed}`,
        check: (out) =>
          out.trim().split('\n').length === PROBE_ROUNDS ? undefined : `expected ${PROBE_ROUNDS} rounds`,
      };
      const probe = await measureGroup([probeSpec], {
        root: ctx.root,
        runs: 1,
        warmup: 0,
        log: ctx.log,
        helper: pgc.helper(),
      });

      ctx.log('agent: starting the agent (bench/agent-driver.mjs)');
      const cpu0 = machineCpu();
      const pg0 = pgc.helper().cpuMs();
      const self0 = process.cpuUsage();
      const a = new AgentSession(
        ctx.root,
        [
          '--server',
          AGENT_SERVER,
          '--catalogue',
          url,
          '--watch',
          watched,
          '--state-dir',
          join(scratch, 'state'),
        ],
        scratch,
      );
      agent = a;
      const starting = await a.waitFor((l) => l.event === 'agent_starting', 30_000);
      const firstScheduled = await a.waitFor((l) => l.event === 'scheduled', 170_000);
      const memScheduled = a.memory();
      const reconciled = await a.waitFor((l) => l.event === 'reconciled', 170_000);
      const memReconciled = a.memory();
      // Idle: no apply, nothing due but the few spread definitions; what the timers alone cost.
      const idle0 = processTreeCpuMs(a.pid ?? 0);
      await sleep(IDLE_MS);
      const idle1 = processTreeCpuMs(a.pid ?? 0);
      ctx.log(
        `agent: scheduled, then reconciled (${reconciled.outcome}); ${rounds} round(s) of the 1% change`,
      );
      const results: RoundResult[] = [];
      for (let r = 0; r < rounds; r++) {
        const result = await changeRound(a, {
          root: ctx.root,
          url,
          dir: changedDir,
          dumpRoot,
          leadMs: 15_000,
        });
        results.push(result);
        ctx.log(
          `  round ${r + 1}: apply ${Math.round(result.applyMs)} ms, reschedule ${Math.round(result.rescheduleMs)} ms, ${result.delays.length} started`,
        );
      }
      const memRounds = a.memory();
      ctx.log('agent: get backups while the agent runs, then without it');
      const getSpec = (label: string): CommandSpec => ({
        label,
        command: ['node', 'bin/pgbackman.js', '--catalogue', url, 'get', 'backups'],
        shown: `node bin/pgbackman.js --catalogue $PG/${DB.base} get backups`,
      });
      const options = { root: ctx.root, runs: 7, warmup: 1, log: ctx.log, helper: pgc.helper() };
      const withAgent = await measureGroup([getSpec('get backups, agent running')], options);
      const usage = await a.stop();
      agent = undefined;
      const cpu1 = machineCpu();
      const pg1 = pgc.helper().cpuMs();
      const self = process.cpuUsage(self0);
      const without = await measureGroup([getSpec('get backups, no agent')], options);

      ctx.log(
        `agent: get backups on an embedded catalogue the agent serves (${EMBEDDED_DEFINITIONS} definitions), then without it`,
      );
      const embeddedDir = join(scratch, 'manifests-embedded');
      const embeddedState = join(scratch, 'state-embedded');
      writeAgentFixture(embeddedDir, dumpRoot, undefined, { servers: 1, definitions: EMBEDDED_DEFINITIONS });
      const e = new AgentSession(
        ctx.root,
        ['--server', AGENT_SERVER, '--watch', embeddedDir, '--state-dir', embeddedState],
        scratch,
      );
      agent = e;
      await e.waitFor((l) => l.event === 'reconciled' && l.outcome === 'applied', 170_000);
      const embedded = join(embeddedState, 'catalogue');
      const getEmbedded = (label: string): CommandSpec => ({
        label,
        command: ['node', 'bin/pgbackman.js', '--catalogue', embedded, 'get', 'backups'],
        shown: 'node bin/pgbackman.js --catalogue STATE/catalogue get backups',
      });
      const plain = { root: ctx.root, runs: 7, warmup: 1, log: ctx.log };
      const embeddedWith = await measureGroup([getEmbedded('get backups, embedded, agent serving')], plain);
      await e.stop();
      agent = undefined;
      const embeddedWithout = await measureGroup([getEmbedded('get backups, embedded, no agent')], plain);

      // Everything but other processes: the agent, PostgreSQL, this runner and the get backups runs.
      const theirs =
        (usage.cpuMs ?? 0) +
        (pg1 ?? 0) -
        (pg0 ?? 0) +
        (self.user + self.system) / 1000 +
        withAgent.measurements.flatMap((m) => m.cpuMs).reduce((x, y) => x + y, 0);
      const session = sessionGroup(
        usage,
        `node bench/agent-driver.mjs --server ${AGENT_SERVER} --catalogue $PG/${DB.base} --watch DIR --state-dir DIR`,
        pg0 === undefined || pg1 === undefined ? undefined : pg1 - pg0,
        cpu0 === undefined || cpu1 === undefined
          ? undefined
          : Math.max(0, cpu1.busyMs - cpu0.busyMs - theirs) / (cpu1.totalMs - cpu0.totalMs),
      );
      return describeAgent({
        command: `npm run bench -- agent${ctx.runs === undefined ? '' : ` --runs ${ctx.runs}`}`,
        version: pgc.version,
        probe,
        session,
        withAgent,
        without,
        embeddedWith,
        embeddedWithout,
        embeddedDefinitions: EMBEDDED_DEFINITIONS,
        rounds: results,
        startToScheduledMs: Date.parse(firstScheduled.time) - Date.parse(starting.time),
        scheduledToReconciledMs: Date.parse(reconciled.time) - Date.parse(firstScheduled.time),
        idleCpuMs: idle0 === undefined || idle1 === undefined ? Number.NaN : idle1 - idle0,
        idleMs: IDLE_MS,
        memory: { scheduled: memScheduled, reconciled: memReconciled, rounds: memRounds },
      });
    } finally {
      agent?.kill();
      release();
      ctx.log('agent: stopping the throwaway PostgreSQL');
      await pgc.stop();
      rmSync(scratch, { recursive: true, force: true });
    }
  },
};

export default benchmark;
