// BackupPolicy expansion over 200 nodes × 50 databases: `expandPolicies` (pure, src/policy/) timed in process,
// beside the discovery queries it waits for (the real `discoverDatabases`, 200 nodes that are one throwaway
// cluster holding 50 databases, so asked 200 times), both in `bench/policy-probe.ts`.
import {
  type BenchContext,
  type Benchmark,
  type CommandSpec,
  type Measurement,
  measureGroup,
  stats,
  target,
} from './harness.ts';
import { BenchServer, stopOnSignal } from './server-helpers.ts';

/** Issue 15: "Policy expansion over 200 nodes × 50 databases: ≤ 1 s beyond the discovery queries." */
const BEYOND_DISCOVERY_MS = 1_000;
const NODES = 200;
/** Per node: 40 whose generated names are plain, 10 whose names need the hash (accents, capitals, '_'). */
const DATABASES = [
  ...Array.from({ length: 40 }, (_, i) => `db-${String(i).padStart(2, '0')}`),
  ...Array.from({ length: 10 }, (_, i) => `Données_${String(i).padStart(2, '0')}`),
];
const PASSES = 5;

interface ProbeLine {
  readonly nodes: number;
  readonly databasesPerNode: number;
  readonly generated: number;
  readonly discoveryMs: number;
  readonly discoveryCpuMs: number;
  readonly expandMs: readonly number[];
  readonly objectsMs: readonly number[];
  readonly expandCpuMs: readonly number[];
}

const ms = (v: number) => (v >= 100 ? `${Math.round(v)} ms` : `${v.toFixed(1)} ms`);
const fmt = (v: number) => v.toLocaleString('en-US');
const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

const benchmark: Benchmark = {
  id: 'policy',
  title: 'Policies: expanding one BackupPolicy over 200 nodes × 50 databases',

  async run(ctx: BenchContext) {
    const nodes = ctx.small ? 20 : NODES;
    const s = await BenchServer.open('bench-policy');
    const release = stopOnSignal(() => s.stop());
    try {
      ctx.log(
        `policy: PostgreSQL ${s.version} on port ${s.cluster.port}; creating ${DATABASES.length} databases`,
      );
      for (const db of DATABASES) await s.sql(`create database ${quote(db)}`);
      const probes: ProbeLine[] = [];
      const argv = ['bench/policy-probe.ts', String(s.cluster.port), String(nodes), String(PASSES)];
      const probe: CommandSpec = {
        label: 'probe (whole process)',
        command: ['node', '--import', 'tsx', ...argv],
        shown: `node --import tsx bench/policy-probe.ts $PORT ${nodes} ${PASSES}`,
        check: (stdout) => {
          const line = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as ProbeLine;
          const want = nodes * (DATABASES.length - 1);
          if (line.generated !== want) return `expected ${want} generated definitions, got ${line.generated}`;
          probes.push(line);
          return undefined;
        },
      };
      const warmup = ctx.warmup ?? 1;
      const group = await measureGroup([probe], {
        root: ctx.root,
        runs: ctx.runs ?? 5,
        warmup,
        log: ctx.log,
        helper: s.helper(),
      });
      const measured = probes.slice(warmup);
      const first = (p: ProbeLine) => p.expandMs[0] as number;
      const firstWithObjects = (p: ProbeLine) => (p.expandMs[0] as number) + (p.objectsMs[0] as number);
      const steady = (p: ProbeLine) => stats(p.expandMs.slice(1)).median;
      const steadyWithObjects = (p: ProbeLine) =>
        stats(p.expandMs.slice(1).map((v, i) => v + (p.objectsMs[i + 1] as number))).median;
      const row = (label: string, shown: string, wall: number[], cpu: number[] = []): Measurement => ({
        spec: { label, command: ['node'], shown },
        wallMs: wall,
        cpuMs: cpu,
        maxRssKiB: [],
        helperCpuMs: [],
        stdout: '',
      });
      const inProbe = 'in bench/policy-probe.ts';
      const rows: Measurement[] = [
        row(
          `discoverDatabases, ${nodes} nodes`,
          `discoverDatabases(${nodes} nodes), ${inProbe}`,
          measured.map((p) => p.discoveryMs),
          measured.map((p) => p.discoveryCpuMs),
        ),
        row(
          'expandPolicies, first call (cold)',
          `expandPolicies(…), previous: none, ${inProbe}`,
          measured.map(first),
        ),
        row(
          'expandPolicies + generatedObjects, first call',
          `expandPolicies + generatedObjects, previous: none, ${inProbe}`,
          measured.map(firstWithObjects),
          measured.map((p) => p.expandCpuMs[0] as number),
        ),
        row(
          'expandPolicies, steady (warm)',
          `expandPolicies(…), previous: the first call's, passes 2-${PASSES}, ${inProbe}`,
          measured.map(steady),
        ),
        row(
          'expandPolicies + generatedObjects, steady',
          `expandPolicies + generatedObjects, previous: the first call's, passes 2-${PASSES}, ${inProbe}`,
          measured.map(steadyWithObjects),
          measured.map((p) => stats(p.expandCpuMs.slice(1)).median),
        ),
      ];
      const full = { ...group, measurements: [...group.measurements, ...rows] };
      const med = (f: (p: ProbeLine) => number) => stats(measured.map(f)).median;
      const discovery = med((p) => p.discoveryMs);
      const line = measured[0] as ProbeLine;
      const small = ctx.small ? ` (**\`--small\`**: ${nodes} nodes, not the issue's ${NODES})` : '';
      return {
        about: [
          `Input${small}: ${fmt(nodes)} PgSQLNodes (\`pg-001\`…, labels \`env: prod\`), one BackupPolicy \`all-prod\` selecting them by \`matchLabels\` (\`databases: {include: ['*'], exclude: ['*_scratch']}\`, a template with code, format, schedule and retention), and one explicit BackupDefinition per node for its \`db-00\` (so the policy generates none there). **The ${fmt(nodes)} nodes are one throwaway PostgreSQL ${s.version} cluster** (all \`127.0.0.1:$PORT\`) holding ${DATABASES.length} databases besides \`postgres\` and the templates: 40 named \`db-00\`…\`db-39\` (plain generated names) and 10 \`Données_00\`…\`Données_09\` (reduced names, so a sha256 suffix each); each node lists ${line.databasesPerNode} live databases, the policy selects ${DATABASES.length} and generates ${fmt(line.generated)} definitions.`,
          `**probe** is \`bench/policy-probe.ts\` under tsx, a whole child process per run: it asks the ${fmt(nodes)} nodes for their databases with the real \`discoverDatabases\` (src/policy/discover-databases.ts, as \`plan\`, \`apply\`, \`get databases\` and the agent do: a new connection to each node's maintenance database, \`select datname from pg_database where datallowconn\`, 8 nodes at a time), then calls \`expandPolicies\` ${PASSES} times on what they said, each call timed by \`process.hrtime\` around it alone, and \`generatedObjects\` (each definition hashed into the desired state, the rest of what \`expandDesired\` adds to the queries besides one catalogue read) after each. The first call has no previous definitions (the first plan or apply: all new) and is the first in the process (cold: JIT, the name reductions' regular expressions compiled); calls 2-${PASSES} get the first call's ${fmt(line.generated)} definitions as the catalogue's previous ones (every later reconcile), warm. The rows below the probe's are its in-process timings (medians over the measured processes; \`steady\` rows are each process's median of calls 2-${PASSES}); their CPU is \`process.cpuUsage\` around the same calls.`,
          `The discovery queries against one local cluster are a floor: real nodes add a network round trip or more per connection and answer in parallel. Discovery took ${ms(discovery)} (median) here; the target is on what comes beyond it, which does not depend on the nodes.`,
        ],
        reproduce: [
          `npm run bench -- policy${ctx.small ? ' --small' : ''}${ctx.runs === undefined ? '' : ` --runs ${ctx.runs}`}`,
          `# by hand: a PostgreSQL on $PORT where you may create databases; create the ${DATABASES.length} databases above, then`,
          `/usr/bin/time -v node --import tsx bench/policy-probe.ts $PORT ${nodes} ${PASSES}`,
        ],
        groups: [full],
        ratios: [
          {
            name: 'expandPolicies + generatedObjects, first call / discoverDatabases',
            value: med(firstWithObjects) / discovery,
          },
        ],
        targets: [
          target(
            `expandPolicies + generatedObjects, first call (cold), ${fmt(nodes)} nodes × ${DATABASES.length} databases`,
            med(firstWithObjects),
            BEYOND_DISCOVERY_MS,
            'ms',
          ),
          target(
            `expandPolicies + generatedObjects, steady (warm, previous definitions known), ${fmt(nodes)} nodes × ${DATABASES.length} databases`,
            med(steadyWithObjects),
            BEYOND_DISCOVERY_MS,
            'ms',
          ),
        ],
      };
    } finally {
      release();
      ctx.log('policy: stopping the throwaway PostgreSQL');
      await s.stop();
    }
  },
};

export default benchmark;
