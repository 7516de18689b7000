// Writes the manifest set the validation benchmark reads: 50 BackupServers, 1,000 PgSQLNodes,
// 20,000 BackupDefinitions and 2,000 SnapshotDefinitions in 1,000 multi-document files under
// bench/.fixtures/manifests-23k/ (git-ignored). Seeded, so every run writes the same bytes; skipped when the
// fixture already exists from the same generator version.
//
//   node --import tsx bench/generate-fixture.ts [--force]
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Bump when the generated set changes on purpose. The stamp also holds a hash of this file, so an edit that
 * forgets the bump still rebuilds the fixture rather than benchmarking a stale one.
 */
export const GENERATOR_VERSION = 1;
const GENERATOR_HASH = createHash('sha256')
  .update(readFileSync(fileURLToPath(import.meta.url)))
  .digest('hex')
  .slice(0, 12);
export const GENERATOR_ID = `${GENERATOR_VERSION}+${GENERATOR_HASH}`;
export const SEED = 0x5eed_2026;

export const FIXTURE_NAME = 'manifests-23k';
export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = dirname(BENCH_DIR);
export const FIXTURE_DIR = join(BENCH_DIR, '.fixtures', FIXTURE_NAME);
const STAMP_FILE = '.fixture.json';
const SCHEMA_FILE = join(REPO_ROOT, 'schemas', 'pgbackman.schema.json');

/** Word lists are written as text: one word (or, for lineList, one line) per item. */
function words(text: string): readonly string[] {
  return text.trim().split(/\s+/);
}
function lineList(text: string): readonly string[] {
  return text
    .trim()
    .split('\n')
    .map((l) => l.trim());
}

const REGIONS = [
  { id: 'eun', zone: 'Europe/Oslo', domain: 'eu-north.example.net' },
  { id: 'euw', zone: 'Europe/Dublin', domain: 'eu-west.example.net' },
  { id: 'use', zone: 'America/New_York', domain: 'us-east.example.net' },
  { id: 'usw', zone: 'America/Los_Angeles', domain: 'us-west.example.net' },
  { id: 'aps', zone: 'Asia/Kolkata', domain: 'ap-south.example.net' },
] as const;
const SERVERS_PER_REGION = 10;
const NODES_PER_SERVER = 20;
const DEFINITIONS_PER_NODE = 20;
const SNAPSHOTS_PER_NODE = 2;
/** Per server directory: server.yaml, nodes.yaml, snapshots.yaml and this many definition files. */
const DEFINITION_FILES_PER_SERVER = 17;

const DATABASES = words(`
  orders billing inventory users sessions analytics audit catalog search payments ledger crm hr wiki gitlab
  grafana keycloak metrics notifications shipping pricing reviews loyalty fraud reporting warehouse tickets cms
  mailer scheduler geo media accounts invoices tax returns chat feeds`);
const TEAMS = words('payments platform growth logistics identity data support finance');
const TIERS = ['gold', 'silver', 'bronze'] as const;
const ENVS = ['prod', 'prod', 'prod', 'staging', 'qa'] as const;
const ZONES = words(`
  UTC Europe/Oslo Europe/Berlin Europe/London America/New_York America/Chicago America/Sao_Paulo Asia/Tokyo
  Asia/Singapore Australia/Sydney`);
/** Cron schedules, 5 fields or 6 with seconds first, one per line. */
const CRONS = lineList(`
  30 2 * * *
  0 3 * * *
  15 1 * * *
  45 23 * * *
  0 */6 * * *
  0 */4 * * *
  30 1 * * 1-5
  0 4 * * 0
  0 5 1 * *
  10 0 * * 6,0
  0 0 2 * * *
  30 15 3 * * 1-5
  0 22 * * 1,3,5
  5 */12 * * *`);
const PERIODS = ['7d', '14d', '30d', '90d', '36h', '1w3d', '2w', '4w', '180d'] as const;
const COMPRESSIONS = ['zstd:3', 'lz4', 'gzip:6', 'zstd', 6, 9, 'none'] as const;
/** Allow-listed pg_dump options (src/manifest/extra-args.ts) with realistic values. */
const PG_DUMP_ARGS = words(`
  --no-owner --no-privileges --no-comments --no-publications --no-subscriptions --no-tablespaces
  --exclude-table=audit.* --exclude-table-data=public.sessions --exclude-table-data-and-children=logs.events_*
  --exclude-schema=tmp_* --schema=public --lock-wait-timeout=30s --role=backup_reader --extension=pg_trgm
  --no-unlogged-table-data --quote-all-identifiers --load-via-partition-root --exclude-table=public.cache_*`);
/** Allow-listed pg_dumpall options, for CLUSTER dumps. */
const PG_DUMPALL_ARGS = words(`
  --no-role-passwords --exclude-database=template* --no-tablespaces --no-comments --lock-wait-timeout=60s
  --no-unlogged-table-data`);

export interface FixtureStamp {
  readonly generator: string;
  readonly seed: number;
  readonly counts: Readonly<Record<string, number>>;
  readonly files: number;
  readonly bytes: number;
  readonly lines: number;
}

/** mulberry32: small, fast and fully determined by its seed. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1));
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)] as T;
  const chance = (p: number): boolean => next() < p;
  const sample = <T>(list: readonly T[], n: number): T[] => {
    const copy = [...list];
    for (let i = copy.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
    }
    return copy.slice(0, n);
  };
  return { next, int, pick, chance, sample };
}
type Rng = ReturnType<typeof rng>;

const pad = (n: number): string => String(n).padStart(2, '0');
const quote = (s: string): string => JSON.stringify(s);
const flowList = (items: readonly string[]): string => `[${items.map(quote).join(', ')}]`;
const flowMap = (entries: readonly (readonly [string, string | number])[]): string =>
  `{ ${entries.map(([k, v]) => `${k}: ${v}`).join(', ')} }`;

interface Server {
  readonly name: string;
  readonly index: number;
  readonly region: (typeof REGIONS)[number];
  readonly nodes: Node[];
}
interface Node {
  readonly name: string;
  readonly team: string;
  readonly databases: string[];
}

function header(file: string, comment: string): string {
  const schema = relative(dirname(join(FIXTURE_DIR, file)), SCHEMA_FILE);
  return `# yaml-language-server: $schema=${schema}\n# ${comment}\n`;
}

function backupServer(r: Rng, s: Server): string {
  const lines = [
    'apiVersion: pgbackman.io/v1',
    'kind: BackupServer',
    'metadata:',
    `  name: ${s.name}`,
    `  labels: { region: ${s.region.id}, env: ${r.pick(ENVS)} }`,
    'spec:',
    `  hostname: ${s.name}.backup.${s.region.domain}`,
    `  rootDirectory: /srv/pgbackman/${s.name}`,
    '  pgBinDirectories:',
    ...[14, 15, 16, 17].map((v) => `    "${v}": /usr/lib/postgresql/${v}/bin`),
    `  maxConcurrentDumps: ${r.pick([2, 4, 4, 8, 16])}`,
    `  diskReserve: ${r.pick(['5%', '10%', '200GiB', '1TiB'])}`,
    '  defaults:',
    `    retention: ${flowMap([
      ['period', r.pick(PERIODS)],
      ['redundancy', r.int(1, 3)],
    ])}`,
    `    timezone: ${s.region.zone}`,
    `    includeRoles: ${r.chance(0.9)}`,
    `  description: Backup server ${s.name} in ${s.region.domain}`,
  ];
  return lines.join('\n');
}

function pgsqlNode(r: Rng, s: Server, n: Node, index: number): string {
  const host = r.chance(0.15)
    ? `10.${REGIONS.indexOf(s.region) + 10}.${s.index}.${index + 10}`
    : `${n.name}.db.${s.region.domain}`;
  const lines = [
    'apiVersion: pgbackman.io/v1',
    'kind: PgSQLNode',
    'metadata:',
    `  name: ${n.name}`,
    '  labels:',
    `    team: ${n.team}`,
    `    tier: ${r.pick(TIERS)}`,
    `    env: ${r.pick(ENVS)}`,
    `    app.kubernetes.io/part-of: ${n.databases[0] ?? 'shop'}`,
    'spec:',
    `  host: ${host}`,
    `  port: ${r.pick([5432, 5432, 5432, 5433, 6432])}`,
    `  user: ${r.pick(['postgres', 'pgbackman', 'backup'])}`,
    r.chance(0.6)
      ? `  passwordFrom: { env: ${n.name.toUpperCase().replace(/-/g, '_')}_PASSWORD }`
      : `  passwordFrom: { file: /etc/pgbackman/secrets/${n.name}.pass }`,
    `  sslMode: ${r.pick(['prefer', 'require', 'verify-full', 'verify-full'])}`,
    `  backupWindow: ${flowMap([
      ['start', quote(`${pad(r.int(0, 2))}:${r.pick(['00', '15', '30'])}`)],
      ['end', quote(`${pad(r.int(4, 6))}:${r.pick(['00', '30', '59'])}`)],
      ...(r.chance(0.2) ? ([['daysOfWeek', quote('1-5')]] as const) : []),
    ])}`,
    '  defaults:',
    `    retention: { period: ${r.pick(PERIODS)} }`,
  ];
  if (r.chance(0.3)) lines.push(`    timezone: ${r.pick(ZONES)}`);
  // Only options both pg_dump and pg_dumpall accept: CLUSTER definitions inherit these too.
  if (r.chance(0.25)) lines.push(`    extraArgs: ${flowList(['--no-owner'])}`);
  if (r.chance(0.4)) lines.push(`  notify: { email: [${n.team}-oncall@example.com, dba@example.com] }`);
  return lines.join('\n');
}

function backupDefinition(r: Rng, s: Server, n: Node, database: string | undefined, code: string): string {
  const suffix = code === 'CLUSTER' ? 'cluster' : `${database}-${code.toLowerCase()}`;
  const lines = [
    'apiVersion: pgbackman.io/v1',
    'kind: BackupDefinition',
    'metadata:',
    `  name: ${n.name}-${suffix}`,
    `  labels: { team: ${n.team}, tier: ${r.pick(TIERS)} }`,
  ];
  if (r.chance(0.05)) lines.push('  annotations: { pgbackman.io/prevent-destroy: "true" }');
  lines.push('spec:', `  server: ${s.name}`, `  node: ${n.name}`);
  if (database !== undefined) lines.push(`  database: ${database}`);
  lines.push(`  code: ${code}`);
  lines.push(`  schedule: ${r.chance(0.4) ? 'auto' : quote(r.pick(CRONS))}`);
  if (r.chance(0.5)) lines.push(`  timezone: ${r.pick(ZONES)}`);
  if (r.chance(0.75)) {
    const retention: [string, string | number][] = [['period', r.pick(PERIODS)]];
    if (r.chance(0.7)) retention.push(['redundancy', r.int(1, 7)]);
    lines.push(`  retention: ${flowMap(retention)}`);
  }
  if (code === 'CLUSTER') {
    if (r.chance(0.5)) lines.push('  format: plain');
  } else {
    const format = r.pick(['custom', 'custom', 'custom', 'directory', 'directory', 'plain', 'tar'] as const);
    if (format !== 'custom' || r.chance(0.3)) lines.push(`  format: ${format}`);
    if (format === 'directory') lines.push(`  jobs: ${r.pick([2, 4, 4, 8])}`);
    if (format !== 'tar' && r.chance(0.4)) {
      const c = r.pick(COMPRESSIONS);
      lines.push(`  compression: ${typeof c === 'number' ? c : quote(c)}`);
    }
  }
  if (r.chance(0.3)) {
    const pool = code === 'CLUSTER' ? PG_DUMPALL_ARGS : PG_DUMP_ARGS;
    lines.push(`  extraArgs: ${flowList(r.sample(pool, r.int(1, 3)))}`);
  }
  if (r.chance(0.1)) lines.push(`  includeRoles: ${r.chance(0.5)}`);
  if (r.chance(0.1)) lines.push('  catchUp: true');
  if (r.chance(0.15)) lines.push(`  description: ${code} dump of ${database ?? n.name} for ${n.team}`);
  if (r.chance(0.02)) lines.push('  suspend: true');
  if (r.chance(0.03)) lines.push('  lifecycle: { preventDestroy: true }');
  return lines.join('\n');
}

function snapshotDefinition(r: Rng, s: Server, n: Node, k: number): string {
  const cluster = k === 1 && r.chance(0.3);
  const database = cluster ? undefined : r.pick(n.databases);
  const version = r.pick([16, 17, 17, 18]);
  const tag = r.pick(['pre-upgrade', 'pre-migration', 'quarter-end', 'audit', 'before-reindex']);
  const offset = r.pick(['Z', '+01:00', '+02:00', '-05:00', '+05:30']);
  const at = `2026-${pad(r.int(1, 12))}-${pad(r.int(1, 28))}T${pad(r.int(0, 23))}:${pad(r.int(0, 59))}:00${offset}`;
  const lines = [
    'apiVersion: pgbackman.io/v1',
    'kind: SnapshotDefinition',
    'metadata:',
    `  name: ${n.name}-${database ?? 'cluster'}-${tag}-${k}`,
    `  labels: { team: ${n.team}, reason: ${tag} }`,
    'spec:',
    `  server: ${s.name}`,
    `  node: ${n.name}`,
  ];
  if (database !== undefined) lines.push(`  database: ${database}`);
  lines.push(
    `  at: ${quote(at)}`,
    `  retention: { period: ${r.pick(['30d', '90d', '180d', '52w'])} }`,
    `  code: ${cluster ? 'CLUSTER' : 'FULL'}`,
  );
  if (!cluster) lines.push(`  pgDumpVersion: ${version}`);
  lines.push(`  tag: ${tag}-pg${version}`, `  description: Snapshot of ${database ?? n.name} (${tag})`);
  return lines.join('\n');
}

/** The file name (relative to the fixture) and contents of every generated file. */
export function generateFiles(seed = SEED): Map<string, string> {
  const r = rng(seed);
  const files = new Map<string, string>();
  const add = (path: string, comment: string, docs: readonly string[]): void => {
    files.set(path, `${header(path, comment)}${docs.map((d) => `---\n${d}\n`).join('')}`);
  };
  for (const region of REGIONS) {
    for (let si = 1; si <= SERVERS_PER_REGION; si++) {
      const server: Server = { name: `bk-${region.id}-${pad(si)}`, index: si, region, nodes: [] };
      for (let ni = 1; ni <= NODES_PER_SERVER; ni++) {
        server.nodes.push({
          name: `pg-${region.id}-${pad(si)}-${pad(ni)}`,
          team: r.pick(TEAMS),
          databases: r.sample(DATABASES, 12),
        });
      }
      const dir = `fleet/${region.id}/${server.name}`;
      add(`${dir}/server.yaml`, `Backup server ${server.name}.`, [backupServer(r, server)]);
      add(
        `${dir}/nodes.yaml`,
        `The PostgreSQL nodes ${server.name} backs up.`,
        server.nodes.map((n, i) => pgsqlNode(r, server, n, i)),
      );
      const definitions: { node: Node; text: string }[] = [];
      for (const node of server.nodes) {
        // Per node: one CLUSTER dump, a FULL or DATA dump of 12 databases, a SCHEMA dump of 7 of them.
        definitions.push({ node, text: backupDefinition(r, server, node, undefined, 'CLUSTER') });
        for (let i = 0; i < DEFINITIONS_PER_NODE - 1; i++) {
          const database = node.databases[i % node.databases.length] as string;
          const code = i >= node.databases.length ? 'SCHEMA' : r.chance(0.85) ? 'FULL' : 'DATA';
          definitions.push({ node, text: backupDefinition(r, server, node, database, code) });
        }
      }
      // Files of uneven size (one to a few dozen documents), as repositories grow them.
      const cuts = new Set<number>();
      while (cuts.size < DEFINITION_FILES_PER_SERVER - 1) cuts.add(r.int(1, definitions.length - 1));
      const bounds = [0, ...[...cuts].sort((a, b) => a - b), definitions.length];
      for (let f = 0; f + 1 < bounds.length; f++) {
        const chunk = definitions.slice(bounds[f], bounds[f + 1]);
        const first = chunk[0] as { node: Node };
        const nested = f % 4 === 3 ? 'legacy/' : '';
        add(
          `${dir}/definitions/${first.node.team}/${nested}part-${pad(f + 1)}.yaml`,
          `Backups owned by ${first.node.team} on ${server.name}.`,
          chunk.map((d) => d.text),
        );
      }
      const snapshots: string[] = [];
      for (const node of server.nodes) {
        for (let k = 1; k <= SNAPSHOTS_PER_NODE; k++) snapshots.push(snapshotDefinition(r, server, node, k));
      }
      add(`${dir}/snapshots.yaml`, `One-time dumps on ${server.name}.`, snapshots);
    }
  }
  return files;
}

function readStamp(dir: string): FixtureStamp | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, STAMP_FILE), 'utf8')) as FixtureStamp;
  } catch {
    return undefined;
  }
}

/** Generates the fixture unless it exists from this generator version; returns its description. */
export function ensureFixture(options: { force?: boolean; log?: (line: string) => void } = {}): FixtureStamp {
  const log = options.log ?? (() => {});
  const existing = readStamp(FIXTURE_DIR);
  if (!options.force && existing?.generator === GENERATOR_ID && existing.seed === SEED) {
    log(`fixture ${relative(REPO_ROOT, FIXTURE_DIR)} is up to date (generator ${GENERATOR_ID})`);
    return existing;
  }
  const started = performance.now();
  const files = generateFiles(SEED);
  // Write next to the target and swap it in, so an interrupted run never leaves a half fixture behind.
  const temp = `${FIXTURE_DIR}.tmp-${process.pid}`;
  rmSync(temp, { recursive: true, force: true });
  const counts: Record<string, number> = {};
  let bytes = 0;
  let lines = 0;
  for (const [path, text] of files) {
    const target = join(temp, path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, text);
    bytes += Buffer.byteLength(text);
    lines += text.split('\n').length - 1;
    for (const [, kind] of text.matchAll(/^kind: (\w+)$/gm))
      counts[kind as string] = (counts[kind as string] ?? 0) + 1;
  }
  const stamp: FixtureStamp = {
    generator: GENERATOR_ID,
    seed: SEED,
    counts,
    files: files.size,
    bytes,
    lines,
  };
  writeFileSync(join(temp, STAMP_FILE), `${JSON.stringify(stamp, null, 2)}\n`);
  rmSync(FIXTURE_DIR, { recursive: true, force: true });
  renameSync(temp, FIXTURE_DIR);
  const ms = Math.round(performance.now() - started);
  log(`generated ${relative(REPO_ROOT, FIXTURE_DIR)}: ${describeFixture(stamp)} in ${ms} ms`);
  return stamp;
}

export function describeFixture(s: FixtureStamp): string {
  const kinds = Object.entries(s.counts)
    .map(([kind, n]) => `${n.toLocaleString('en-US')} ${kind}`)
    .join(', ');
  const total = Object.values(s.counts).reduce((a, b) => a + b, 0);
  return `${total.toLocaleString('en-US')} manifests (${kinds}) in ${s.files.toLocaleString('en-US')} files, ${s.lines.toLocaleString('en-US')} lines, ${(s.bytes / 1024 / 1024).toFixed(1)} MiB`;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  ensureFixture({ force: process.argv.includes('--force'), log: (line) => console.log(line) });
  if (!existsSync(FIXTURE_DIR)) process.exitCode = 1;
}
