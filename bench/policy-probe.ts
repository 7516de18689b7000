// One BackupPolicy over NODES nodes of DATABASES databases each: the discovery queries (the real
// `discoverDatabases`, every node pointing at the one throwaway cluster at PORT), then `expandPolicies` (pure)
// over what they found, timed apart, in one process.
//
//   node --import tsx bench/policy-probe.ts PORT [NODES] [PASSES]
//
// Pass 1 expands with no previous definitions (the first plan or apply: every definition new), cold (the first
// call in the process, as a CLI command makes it); passes 2..PASSES with the definitions pass 1 generated as
// the catalogue's previous ones (every later reconcile of the agent), warm. Each expansion is followed by
// `generatedObjects` (each definition hashed into the desired state), the rest of what `expandDesired` does
// beyond the queries and the catalogue read. Prints one JSON line.
import { discoverDatabases } from '../src/policy/discover-databases.ts';
import {
  type ExplicitDefinition,
  expandPolicies,
  type GeneratedDefinition,
  type PolicyInput,
} from '../src/policy/expand-policies.ts';
import { generatedObjects } from '../src/policy/generated-objects.ts';

const port = Number(process.argv[2]);
const count = Number(process.argv[3] ?? 200);
const passes = Number(process.argv[4] ?? 5);
if (!Number.isInteger(port)) throw new Error('usage: policy-probe.ts PORT [NODES] [PASSES]');

const nodes = Array.from({ length: count }, (_, i) => ({
  name: `pg-${String(i + 1).padStart(3, '0')}`,
  labels: { env: 'prod', site: i % 2 === 0 ? 'east' : 'west' },
  spec: { host: '127.0.0.1', port, user: 'postgres' },
}));
const policy: PolicyInput = {
  name: 'all-prod',
  labels: { team: 'dba' },
  spec: {
    server: 'bench-server',
    nodeSelector: { matchLabels: { env: 'prod' } },
    databases: { include: ['*'], exclude: ['*_scratch'] },
    template: { code: 'FULL', format: 'custom', schedule: '0 3 * * *', retention: { period: '14d' } },
  },
};
// One explicit definition per node, for its first database: the policy generates none there.
const explicit: ExplicitDefinition[] = nodes.map((n) => ({
  name: `${n.name}-db-00-nightly`,
  node: n.name,
  database: 'db-00',
}));

const ms = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;
const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;

let t = process.hrtime.bigint();
let c = process.cpuUsage();
const found = await discoverDatabases(nodes);
const discoveryMs = ms(t);
const discoveryCpuMs = cpuMs(process.cpuUsage(c));
if (found.failures.length > 0)
  throw new Error(`discovery: ${found.failures.length} node(s) failed: ${found.failures[0]?.error.message}`);
const perNode = found.databases.get(nodes[0]?.name ?? '')?.length ?? 0;

const expandMs: number[] = [];
const objectsMs: number[] = [];
const expandCpuMs: number[] = [];
let previous: readonly GeneratedDefinition[] = [];
let generated = 0;
for (let p = 0; p < passes; p++) {
  c = process.cpuUsage();
  t = process.hrtime.bigint();
  const e = expandPolicies({
    policies: [policy],
    nodes,
    databases: found.databases,
    explicit,
    previous,
    now: new Date(),
  });
  expandMs.push(ms(t));
  t = process.hrtime.bigint();
  const objects = generatedObjects(e.definitions, new Map(), new Map([[policy.name, 'policies.yaml']]));
  objectsMs.push(ms(t));
  expandCpuMs.push(cpuMs(process.cpuUsage(c)));
  if (e.conflicts.length > 0 || e.unexpanded.length > 0 || objects.length !== e.definitions.length)
    throw new Error('expansion: unexpected conflicts or unexpanded nodes');
  generated = e.definitions.length;
  if (p === 0) previous = e.definitions;
}
process.stdout.write(
  `${JSON.stringify({ nodes: count, databasesPerNode: perNode, generated, discoveryMs, discoveryCpuMs, expandMs, objectsMs, expandCpuMs })}\n`,
);
