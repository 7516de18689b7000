// The scale-out benchmark's fleet: one no-op agent process per BackupServer (bench/agent-driver.mjs through
// AgentSession), started in batches; the catalogue's statement counts (pg_stat_statements); the 1% change
// applied to every server at once and timed from each server's NOTIFY to its agent's `scheduled` line.
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import {
  definitionName,
  isChanged,
  patternAt,
  type Spread,
  serverName,
  serverOf,
  writeAgentFixture,
} from './agent-fixture.ts';
import { type AgentLine, AgentSession, type AgentUsage } from './agent-session.ts';
import { GNU_TIME, type Helper, machineCpu, processTreeCpuMs } from './harness.ts';
import type { BenchServer } from './server-helpers.ts';

const run = promisify(execFile);
const now = (): number => performance.timeOrigin + performance.now();

/** One agent of the fleet and what its start-up logged. */
export interface FleetAgent {
  readonly server: string;
  readonly session: AgentSession;
  /** agent_starting → first `scheduled`, and → `reconciled` (its watched directory applied: unchanged), ms. */
  startToScheduledMs: number;
  startToReconciledMs: number;
}

/** `pgbackman` from another process, under GNU time when it is there (its CPU is ours, not other load). */
export async function cli(
  root: string,
  argv: readonly string[],
  usageFile: string,
): Promise<{ stdout: string; cpuMs: number; maxRssKiB: number | undefined }> {
  const { NODE_OPTIONS: _ignored, ...env } = process.env;
  const node = [process.execPath, 'bin/pgbackman.js', ...argv];
  const withTime = existsSync(GNU_TIME);
  const [program = '', ...args] = withTime ? [GNU_TIME, '-f', '%M %U %S', '-o', usageFile, ...node] : node;
  const { stdout } = await run(program, args, {
    cwd: root,
    env: { ...env, NO_COLOR: '1' },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (!withTime) return { stdout, cpuMs: 0, maxRssKiB: undefined };
  const [rss, user = 0, sys = 0] = (readFileSync(usageFile, 'utf8').trim().split('\n').pop() ?? '')
    .split(' ')
    .map(Number);
  return { stdout, cpuMs: (user + sys) * 1000, maxRssKiB: rss };
}

/**
 * Starts agents `from`..`to - 1` of the spread, `batch` at a time, each waiting for the batch's `reconciled`
 * lines before the next starts: 20,000 manifests validated by many agents at once would only queue for the CPUs.
 */
export async function startAgents(
  fleet: FleetAgent[],
  o: {
    root: string;
    url: string;
    scratch: string;
    manifests: string;
    spread: Spread;
    to: number;
    batch: number;
    log: (line: string) => void;
  },
): Promise<void> {
  while (fleet.length < o.to) {
    const starting: FleetAgent[] = [];
    for (let k = 0; k < o.batch && fleet.length < o.to; k++) {
      const index = fleet.length;
      const server = serverName(index, o.spread);
      const dir = join(o.scratch, 'agents', server);
      mkdirSync(dir, { recursive: true });
      // Its own copy of the same manifests: every agent of a real fleet watches the same repository.
      cpSync(o.manifests, join(dir, 'manifests'), { recursive: true });
      const session = new AgentSession(
        o.root,
        [
          '--server',
          server,
          '--catalogue',
          o.url,
          '--watch',
          join(dir, 'manifests'),
          // No-op dumps leave nothing to sweep: a sweep after each would count statements of dumps, not of agents.
          '--retention-interval',
          '0',
          '--state-dir',
          join(dir, 'state'),
        ],
        dir,
      );
      const agent: FleetAgent = { server, session, startToScheduledMs: NaN, startToReconciledMs: NaN };
      fleet.push(agent);
      starting.push(agent);
    }
    await Promise.all(
      starting.map(async (a) => {
        const started = await a.session.waitFor((l) => l.event === 'agent_starting', 60_000);
        const scheduled = await a.session.waitFor((l) => l.event === 'scheduled', 300_000);
        const reconciled = await a.session.waitFor((l) => l.event === 'reconciled', 300_000);
        if (reconciled.outcome !== 'unchanged')
          throw new Error(`${a.server}: its start-up reconcile was ${reconciled.outcome}, not unchanged`);
        a.startToScheduledMs = Date.parse(scheduled.time) - Date.parse(started.time);
        a.startToReconciledMs = Date.parse(reconciled.time) - Date.parse(started.time);
      }),
    );
    o.log(`  ${fleet.length} agent(s) running`);
  }
}

/** Stops every agent (SIGTERM, together) and returns each one's usage, in fleet order. */
export async function stopAgents(fleet: readonly FleetAgent[]): Promise<AgentUsage[]> {
  return Promise.all(fleet.map((a) => a.session.stop()));
}

/** Statements the catalogue database ran, by text, since the last reset (pg_stat_statements, top level). */
export async function catalogueStatements(pgc: BenchServer, database: string): Promise<Map<string, number>> {
  const rows = await pgc.rowsIn<{ query: string; calls: string }>(
    'postgres',
    `select s.query, sum(s.calls)::text as calls
       from pg_stat_statements s join pg_database d on d.oid = s.dbid
      where d.datname = $1 group by s.query`,
    [database],
  );
  return new Map(rows.map((r) => [r.query, Number(r.calls)]));
}

/** CPU time (ms) of each agent's Node process so far, from /proc. */
export function agentsCpuMs(fleet: readonly FleetAgent[]): number[] {
  return fleet.map((a) => processTreeCpuMs(a.session.pid ?? 0) ?? Number.NaN);
}

export interface ScaleRound {
  readonly dueAt: number;
  readonly applyMs: number;
  readonly applyCpuMs: number;
  readonly applyRssKiB: number | undefined;
  /** Per agent, in fleet order: its server's NOTIFY (the bench's LISTEN) → its `scheduled` line, ms. */
  readonly latencies: readonly number[];
  /** Changed definitions started, each exactly once and on its own server's agent. */
  readonly started: number;
  readonly expected: number;
  /** Changed definitions that did not start, started more than once, or started on another server's agent. */
  readonly missing: number;
  readonly duplicates: number;
  readonly misplaced: number;
  /** Each agent's CPU from the apply's start to the last agent's `scheduled` line, ms (fleet order). */
  readonly rescheduleCpuMs: readonly number[];
  /** Other processes' share of the machine's CPU over that time (the apply, agents, PostgreSQL are ours). */
  readonly otherShare: number;
}

/** The changed definitions' indices: every CHANGE_EVERY-th of the spread. */
function changedIndices(spread: Spread): number[] {
  return Array.from({ length: spread.definitions }, (_, i) => i).filter(isChanged);
}

/**
 * One round: every CHANGE_EVERY-th definition made due at a whole second T `leadMs` ahead, applied with
 * `pgbackman apply` from another directory; each agent must report its share changed before T, and each
 * changed definition must start once, on its own server's agent.
 */
export async function scaleRound(
  fleet: readonly FleetAgent[],
  o: {
    root: string;
    url: string;
    dir: string;
    dumpRoot: string;
    spread: Spread;
    leadMs: number;
    usageFile: string;
    helper: Helper;
  },
): Promise<ScaleRound> {
  const listener = new pg.Client({ connectionString: o.url, application_name: 'pgbackman bench listen' });
  await listener.connect();
  const notified = new Map<string, number>();
  listener.on('notification', (n) => {
    if (n.channel === 'pgbackman' && n.payload !== undefined && !notified.has(n.payload))
      notified.set(n.payload, now());
  });
  await listener.query('LISTEN pgbackman');
  try {
    const dueAt = Math.ceil((Date.now() + o.leadMs) / 1000) * 1000;
    const changed = writeAgentFixture(o.dir, o.dumpRoot, patternAt(new Date(dueAt)), o.spread);
    const perAgent = changed / o.spread.servers;
    const from = fleet.map((a) => a.session.lines.length);
    const agents0 = agentsCpuMs(fleet);
    const pg0 = o.helper.cpuMs();
    const machine0 = machineCpu();
    const self0 = process.cpuUsage();
    const started = now();
    const applied = await cli(o.root, ['--catalogue', o.url, 'apply', o.dir, '--auto-approve'], o.usageFile);
    const applyMs = now() - started;
    if (!applied.stdout.includes(`Objects: 0 added, ${changed} changed, 0 destroyed.`))
      throw new Error(`apply did not change ${changed} definitions: ${applied.stdout.slice(-300)}`);
    const latencies = await Promise.all(
      fleet.map(async (a, i) => {
        const line = await a.session.waitFor(
          (l) => l.event === 'scheduled' && l.changed === perAgent,
          30_000,
          from[i],
        );
        const notifyAt = notified.get(a.server);
        if (notifyAt === undefined) throw new Error(`no NOTIFY for ${a.server} from the apply`);
        if (Date.parse(line.time) >= dueAt)
          throw new Error(`${a.server} rescheduled after the due second: raise the lead`);
        return Date.parse(line.time) - notifyAt;
      }),
    );
    const rescheduleCpuMs = agentsCpuMs(fleet).map((v, i) => v - (agents0[i] ?? Number.NaN));
    const pg1 = o.helper.cpuMs();
    const machine1 = machineCpu();
    const self = process.cpuUsage(self0);
    const ours =
      rescheduleCpuMs.reduce((x, y) => x + y, 0) +
      (pg0 === undefined || pg1 === undefined ? 0 : pg1 - pg0) +
      applied.cpuMs +
      (self.user + self.system) / 1000;
    const otherShare =
      machine0 === undefined || machine1 === undefined
        ? Number.NaN
        : Math.max(0, machine1.busyMs - machine0.busyMs - ours) / (machine1.totalMs - machine0.totalMs);
    // Each changed definition, wherever it started; waited for until all did (or 30 s after T), then 2 s more
    // so that a second start somewhere would be seen.
    const keys = new Map(
      changedIndices(o.spread).map((i) => [`BackupDefinition/${definitionName(i)}`, serverOf(i, o.spread)]),
    );
    const startsOf = (): Map<string, string[]> => {
      const m = new Map<string, string[]>();
      fleet.forEach((a, i) => {
        for (const l of a.session.lines.slice(from[i])) {
          if (l.event !== 'noop_started' || l.key === undefined || !keys.has(l.key)) continue;
          m.set(l.key, [...(m.get(l.key) ?? []), a.server]);
        }
      });
      return m;
    };
    const deadline = dueAt + 30_000;
    while (startsOf().size < keys.size && Date.now() < deadline) await sleepMs(250);
    await sleepMs(2_000);
    const starts = startsOf();
    let duplicates = 0;
    let misplaced = 0;
    let once = 0;
    for (const [key, servers] of starts) {
      if (servers.length > 1) duplicates += servers.length - 1;
      misplaced += servers.filter((s) => s !== keys.get(key)).length;
      if (servers.length === 1 && servers[0] === keys.get(key)) once++;
    }
    return {
      dueAt,
      applyMs,
      applyCpuMs: applied.cpuMs,
      applyRssKiB: applied.maxRssKiB,
      latencies,
      started: once,
      expected: keys.size,
      missing: keys.size - starts.size,
      duplicates,
      misplaced,
      rescheduleCpuMs,
      otherShare,
    };
  } finally {
    await listener.end();
  }
}

const sleepMs = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Every no-op start of the whole session: definitions started on an agent that is not their server's. */
export function sessionStarts(
  fleet: readonly FleetAgent[],
  spread: Spread,
): { starts: number; definitions: number; misplaced: number } {
  const all: { key: string; server: string }[] = fleet.flatMap((a) =>
    a.session.lines
      .filter((l: AgentLine) => l.event === 'noop_started' && l.key !== undefined)
      .map((l) => ({ key: l.key as string, server: a.server })),
  );
  const index = (key: string) => Number(/def-(\d+)$/.exec(key)?.[1] ?? Number.NaN);
  return {
    starts: all.length,
    definitions: new Set(all.map((s) => s.key)).size,
    misplaced: all.filter((s) => serverOf(index(s.key), spread) !== s.server).length,
  };
}
