// One scheduled dump inside a running `pgbackman agent` (a real process, runDump as its executor) against a
// bare `pg_dump -Fc -f` of the same database, alternating, on the dump benchmark's two databases.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AgentPair, agentRounds } from './agent-dump-rounds.ts';
import { AgentSession } from './agent-session.ts';
import {
  buildDatabases,
  type Database,
  DB,
  DumpCluster,
  definitionDoc,
  exec,
  NODE,
  SERVER,
  scaleOf,
  serverAndNode,
  yamlFile,
} from './dump-databases.ts';
import { type BenchContext, type Benchmark, GNU_TIME, medianWall, stats, target } from './harness.ts';
import { stopOnSignal } from './server-helpers.ts';

/** "A scheduled dump of the two benchmark databases by the agent against bare pg_dump -Fc -f: ≤ 1.03×". */
const AGENT_RATIO = 1.03;
/** A definition's schedule while it is not the one being measured: once a year, never during a run. */
const IDLE = '0 0 0 1 1 *';
const DATABASES: readonly Database[] = [DB.bench, DB.noise];

const mib = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(0)} MiB`;
const ms = (v: number) => `${Math.round(v)} ms`;

const benchmark: Benchmark = {
  id: 'agent-dump',
  title: 'Dumps: a scheduled dump in the agent against a bare pg_dump',

  async run(ctx: BenchContext) {
    const { scale, noiseRows } = scaleOf(ctx);
    const scratch = mkdtempSync(join(tmpdir(), 'pgbackman-bench-agent-dump-'));
    const [root, bare, watch, state] = ['root', 'bare', 'watch', 'state'].map((d) => join(scratch, d));
    for (const d of [root, bare, watch, state]) mkdirSync(d as string, { recursive: true });
    const c = await DumpCluster.start('bench-agent-dump');
    let session: AgentSession | undefined;
    const release = stopOnSignal(async () => {
      session?.kill();
      await c.stop();
      rmSync(scratch, { recursive: true, force: true });
    });
    try {
      const port = c.cluster.port;
      const sizes = await buildDatabases(c, ctx.root, (l) => ctx.log(`agent-dump: ${l}`), scale, noiseRows);
      const catalogue = c.url(DB.catalogue);
      await c.sql(`create database ${DB.catalogue}`);
      await exec(
        process.execPath,
        ['bin/pgbackman.js', '--catalogue', catalogue, 'catalogue', 'migrate'],
        ctx.root,
      );
      const manifest = join(watch as string, 'bench.yaml');
      const schedule = (due: string | undefined, cron = IDLE) =>
        writeFileSync(
          manifest,
          yamlFile([
            ...serverAndNode(root as string, port),
            ...DATABASES.map((d) =>
              definitionDoc(d, 'custom', [
                `  schedule: '${`${d}-custom` === due ? cron : IDLE}'`,
                '  timezone: UTC',
              ]),
            ),
          ]),
        );
      schedule(undefined);
      const argv = ['agent', '--server', SERVER, '--watch', watch as string, '--catalogue', catalogue];
      const flags = ['--listen', 'none', '--state-dir', state as string];
      ctx.log('agent-dump: starting the agent');
      session = new AgentSession(ctx.root, [...argv, ...flags], scratch, 'bin/pgbackman.js');
      await session.waitFor((l) => l.event === 'scheduled', 120_000);

      const pairs: AgentPair[] = DATABASES.map((database) => {
        const out = join(bare as string, `${database}.dump`);
        return {
          name: `${database}-custom`,
          agentDumps: join(root as string, NODE, database),
          bare: {
            label: `pg_dump ${database}-custom`,
            command: [c.tool('pg_dump'), '-Fc', '-f', out, '--dbname', c.url(database)],
            shown: `pg_dump -Fc -f $OUT/${database}.dump --dbname $PG/${database}`,
            before: async () => rmSync(out, { recursive: true, force: true }),
          },
        };
      });
      const shownAgent = `node bin/pgbackman.js agent --server ${SERVER} --watch DIR --catalogue $PG/${DB.catalogue} --listen none --state-dir STATE`;
      ctx.log('agent-dump: measuring, the agent and pg_dump in turn');
      const { group, extra } = await agentRounds(session, pairs, {
        root: ctx.root,
        runs: ctx.runs ?? 3,
        warmup: ctx.warmup ?? 1,
        log: ctx.log,
        helper: c.helper(),
        schedule: (name, cron) => schedule(name, cron),
        shownAgent,
      });
      const usage = await session.stop();
      session = undefined;
      ctx.log(`agent-dump: the agent stopped (its peak RSS ${usage.maxRssKiB ?? '?'} KiB)`);

      const wall = (label: string) => medianWall(group, label);
      const cpu = (label: string) =>
        stats(group.measurements.find((m) => m.spec.label === label)?.cpuMs ?? []).median;
      const of = (p: AgentPair, what: 'startDelayMs' | 'durationMs' | 'pairRatios') =>
        stats(extra.get(p.name)?.[what] ?? []).median;
      const ratio = (p: AgentPair) => wall(`agent ${p.name}`) / wall(p.bare.label);
      const small = ctx.small ? " (**`--small`**: not the issue's scale 70 and 1,500,000 rows)" : '';
      return {
        about: [
          `The dump benchmark's cluster and databases, built the same way${small}: \`${DB.bench}\` is \`pgbench -i -s ${scale}\` (${mib(sizes.bench)}), \`${DB.noise}\` ${noiseRows.toLocaleString('en-US')} rows of random text and bytea (${mib(sizes.noise)}); \`${DB.catalogue}\` is the catalogue (migrated before the agent starts). One BackupServer, the cluster as a PgSQLNode, and \`${DB.bench}-custom\` and \`${DB.noise}-custom\` (\`FULL\`, \`format: custom\`, \`timezone: UTC\`), in one manifest file in the agent's watched directory.`,
          `**agent** is one real agent process for the whole benchmark (\`${shownAgent}\`, JSON log lines on stdout; its executor is \`runDump\`, as in production). For each agent run the bench rewrites the manifest so that the measured definition's schedule is the 6-field cron \`S M H * * *\` of a whole second at least 6 s ahead (the other definition stays at \`${IDLE}\`), waits for the agent's \`reconciled\` line (the apply; it must come before the due time, and the run's start at its due time shows the timer was re-armed) and then for that definition's \`run_finished\` line. **Its wall time is from the due time (the cron's second, exact) to pino's millisecond \`time\` of \`run_finished\`**: the timer's delay, the queue, the catalogue's RUNNING row, pg_dump writing its file (\`--file\`), then its sha256 while it is synced, rename, \`roles.sql\` (\`pg_dumpall --roles-only\`, beside the dump) and \`config.sql\` (from the query that asked the node before the dump), the SUCCEEDED row (the tidying of earlier runs of the definition follows \`run_finished\`, the run lock held until it is done). Its CPU is the agent process tree's (Node plus the pg_dump and pg_dumpall it reaped, \`/proc/PID/stat\`) from the \`reconciled\` line to \`run_finished\` (so a heartbeat or two are in it); its PostgreSQL CPU is over the same window, the bare pg_dump's from spawn to exit; its peak RSS is Node's own \`VmHWM\` so far (pg_dump's is smaller). Its dumps are deleted before each run, untimed.`,
          `**pg_dump** is \`pg_dump -Fc -f\` of the same database by the same binary (\`${c.cluster.binDir}\`), a whole child process under \`${GNU_TIME}\` as in the dump benchmark, its file deleted before each run. Each round runs, for each database, the agent's dump and the bare one, in turns whose order is swapped every round. Besides the ratio of the medians (the target), the median of each round's agent/bare ratio: the two ran back to back, so drift in the machine's speed between rounds cancels out of it.`,
          `Start delay (due time → \`run_started\`, median): ${pairs.map((p) => `${p.name} ${ms(of(p, 'startDelayMs'))}`).join(', ')}. Recorded \`duration_ms\` (the run lock to the dump in place, roles and configuration included; median): ${pairs.map((p) => `${p.name} ${ms(of(p, 'durationMs'))}`).join(', ')}. The agent's peak RSS over the whole session (GNU time, Node or its largest child): ${usage.maxRssKiB === undefined ? '?' : mib(usage.maxRssKiB * 1024)}.`,
        ],
        reproduce: [
          `npm run bench -- agent-dump${ctx.small ? ' --small' : ''}${ctx.runs === undefined ? '' : ` --runs ${ctx.runs}`}${ctx.warmup === undefined ? '' : ` --warmup ${ctx.warmup}`}`,
          `# by hand: the dump benchmark's databases and catalogue, then ${shownAgent}`,
          `# with a BackupDefinition whose schedule is 'S M H * * *' (UTC) a few seconds ahead; compare with`,
          `${GNU_TIME} -v pg_dump -Fc -f $OUT/${DB.bench}.dump --dbname $PG/${DB.bench}`,
        ],
        groups: [group],
        ratios: [
          ...pairs.map((p) => ({ name: `agent ${p.name} / ${p.bare.label}, wall`, value: ratio(p) })),
          ...pairs.map((p) => ({
            name: `agent ${p.name} recorded duration / ${p.bare.label}, wall`,
            value: of(p, 'durationMs') / wall(p.bare.label),
          })),
          ...pairs.map((p) => ({
            name: `agent ${p.name} / ${p.bare.label}, wall, median of each round's pair`,
            value: of(p, 'pairRatios'),
          })),
          ...pairs.map((p) => ({
            name: `agent ${p.name} / ${p.bare.label}, CPU`,
            value: cpu(`agent ${p.name}`) / cpu(p.bare.label),
          })),
        ],
        targets: pairs.map((p) =>
          target(
            `agent ${p.name} (due → run_finished) / ${p.bare.label}, median wall time`,
            ratio(p),
            AGENT_RATIO,
            '×',
          ),
        ),
      };
    } finally {
      release();
      session?.kill();
      ctx.log('agent-dump: stopping the throwaway PostgreSQL');
      await c.stop();
      rmSync(scratch, { recursive: true, force: true });
    }
  },
};

export default benchmark;
