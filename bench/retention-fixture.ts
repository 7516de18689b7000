// The retention benchmark's input: 4 BackupServers, 40 PgSQLNodes and 20,000 BackupDefinitions (manifests
// for `pgbackman apply`) with mixed retention rules and time zones, and 50 runs per definition over a year,
// inserted by one SQL statement. The run times are a formula shared by the SQL and the rule-function probe.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dump } from 'js-yaml';
import type { StoredRetention } from '../src/catalogue/run-retention.ts';
import type { DumpSettings } from '../src/manifest/generated/manifest-types.ts';
import { resolveSettings } from '../src/manifest/resolve-settings.ts';

export const RUNS_PER_DEFINITION = 50;
export const DEFINITIONS = { full: 20_000, small: 2_000 } as const;
const SERVERS = 4;
const NODES_PER_SERVER = 10;
const DEFINITIONS_PER_FILE = 1_000;
const HOUR = 3_600_000;
const MINUTE = 60_000;

/** The retention mix, by definition number modulo 10 (undefined: the server's defaults). */
const RETENTIONS: readonly (DumpSettings['retention'] | undefined)[] = [
  { period: '7d', redundancy: 1 },
  { period: '14d', redundancy: 3 },
  { period: '30d', redundancy: 2 },
  { period: '90d', redundancy: 1 },
  { keep: { daily: 7, weekly: 4, monthly: 12 } },
  { keep: { daily: 7, weekly: 4, monthly: 12 } },
  { keep: { last: 3, daily: 14, weekly: 8 }, redundancy: 2 },
  { period: '30d', redundancy: 2, keep: { last: 3, daily: 7, weekly: 4, monthly: 12, yearly: 2 } },
  undefined,
  undefined,
];
/** By definition number modulo 4 (undefined: the server's default zone). */
const ZONES = [undefined, 'America/New_York', 'UTC', 'Asia/Kolkata'] as const;
/** By server: half the servers default to a zone with daylight saving. */
const SERVER_ZONES = ['Europe/Oslo', 'UTC', 'Australia/Sydney', 'UTC'] as const;

export interface FixtureDefinition {
  readonly index: number;
  readonly name: string;
  readonly server: string;
  readonly node: string;
  readonly database: string;
  readonly root: string;
  /** As run-dump.ts stores it on each run: the resolved rules and time zone. */
  readonly retention: StoredRetention;
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');
const serverName = (s: number) => `rb-${pad(s + 1, 2)}`;
const nodeName = (s: number, n: number) => `${serverName(s)}-pg${pad(n + 1, 2)}`;

function serverSpec(s: number) {
  return {
    hostname: `${serverName(s)}.backup.example.net`,
    // Not on this host: the plan skips the unknown-entries scan, as on any host but the backup server.
    rootDirectory: `/srv/pgbackman-bench/${serverName(s)}`,
    defaults: {
      retention: { period: '14d', redundancy: 2 },
      timezone: SERVER_ZONES[s % SERVER_ZONES.length],
    },
  };
}

function nodeSpec(s: number, n: number) {
  return { host: `${nodeName(s, n)}.db.example.net`, port: 5432, user: 'postgres' };
}

/** Definition `index`: where it lives and its own settings. */
function definition(index: number) {
  const nodes = SERVERS * NODES_PER_SERVER;
  const s = index % SERVERS;
  const n = Math.floor(index / SERVERS) % NODES_PER_SERVER;
  const retention = RETENTIONS[index % RETENTIONS.length];
  const timezone = ZONES[Math.floor(index / nodes) % ZONES.length];
  const spec: DumpSettings & Record<string, unknown> = {
    server: serverName(s),
    node: nodeName(s, n),
    database: `app${pad(Math.floor(index / nodes), 4)}`,
    code: 'FULL',
    schedule: '30 2 * * *',
    ...(retention === undefined ? {} : { retention }),
    ...(timezone === undefined ? {} : { timezone }),
  };
  return { name: `rbd-${pad(index, 5)}`, s, n, spec };
}

/** Every definition of the fixture, with the retention its runs store. */
export function fixtureDefinitions(count: number): FixtureDefinition[] {
  return Array.from({ length: count }, (_, index) => {
    const d = definition(index);
    const settings = resolveSettings(d.spec, { spec: nodeSpec(d.s, d.n) }, {
      spec: serverSpec(d.s),
    } as never);
    return {
      index,
      name: d.name,
      server: serverName(d.s),
      node: nodeName(d.s, d.n),
      database: d.spec.database as string,
      root: serverSpec(d.s).rootDirectory,
      retention: { ...settings.retention, timezone: settings.timezone },
    };
  });
}

/** Writes the manifests for `count` definitions into `dir` (emptied first); returns the number of documents. */
export function writeManifests(dir: string, count: number): number {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const doc = (kind: string, name: string, spec: object) =>
    dump({ apiVersion: 'pgbackman.io/v1', kind, metadata: { name }, spec }, { flowLevel: 3, lineWidth: -1 });
  const file = (path: string, docs: readonly string[]) =>
    writeFileSync(join(dir, path), docs.map((d) => `---\n${d}`).join(''));
  const servers = Array.from({ length: SERVERS }, (_, s) =>
    doc('BackupServer', serverName(s), serverSpec(s)),
  );
  file('servers.yaml', servers);
  const nodes = Array.from({ length: SERVERS * NODES_PER_SERVER }, (_, i) => {
    const [s, n] = [Math.floor(i / NODES_PER_SERVER), i % NODES_PER_SERVER];
    return doc('PgSQLNode', nodeName(s, n), nodeSpec(s, n));
  });
  file('nodes.yaml', nodes);
  for (let from = 0; from < count; from += DEFINITIONS_PER_FILE) {
    const docs: string[] = [];
    for (let i = from; i < Math.min(count, from + DEFINITIONS_PER_FILE); i++) {
      const d = definition(i);
      docs.push(doc('BackupDefinition', d.name, d.spec));
    }
    file(`definitions-${pad(from / DEFINITIONS_PER_FILE, 3)}.yaml`, docs);
  }
  return servers.length + nodes.length + count;
}

/**
 * Run `k` (0 = newest) of definition `d`: hours before now it started (daily for the newest 20, then every
 * 11.5 days back to about a year), its minutes of jitter, its duration, whether it failed or is pinned.
 * The same formula is written in SQL in `insertRunsSql`.
 */
export function runShape(d: number, k: number) {
  const ageHours = k < 20 ? k * 24 + (d % 24) : 480 + (k - 20) * 276 + (d % 24);
  const jitterMinutes = (d * 7) % 60;
  const durationMinutes = 5 + (k % 20);
  const serial = d * RUNS_PER_DEFINITION + k;
  const failed = serial % 13 === 5;
  const pinned = !failed && serial % 997 === 0;
  return { ageHours, jitterMinutes, durationMinutes, failed, pinned };
}

/** When run `k` of definition `d` finished, in ms, given the time the fixture calls now. */
export function finishedAt(now: number, d: number, k: number): number {
  const r = runShape(d, k);
  return now - r.ageHours * HOUR - r.jitterMinutes * MINUTE + r.durationMinutes * MINUTE;
}

/**
 * One INSERT of every run, from a temporary table of the definitions (`bench_defs`: idx, name, server, node,
 * database, root, retention) and generate_series; `$1` is now.
 */
export const insertRunsSql = `
insert into pgbackman.backup_runs
  (id, server, node, database, code, definition, status, started_at, finished_at, duration_ms,
   dump_bytes, dump_path, retention, pinned_at, pinned_by, pin_reason)
select r.id, d.server, d.node, d.database, 'FULL', d.name,
       case when r.failed then 'FAILED' else 'SUCCEEDED' end,
       r.started_at, r.started_at + make_interval(mins => r.duration), r.duration * 60000,
       case when r.failed then null else 10000000 + (d.idx * 7919 + r.k * 104729) % 5000000000 end,
       case when r.failed then null else
         d.root || '/' || d.node || '/' || d.database || '/' ||
         to_char(r.started_at at time zone 'UTC', 'YYYYMMDD"T"HH24MISS"Z"') || '-FULL-' || d.name || '-' ||
         left(r.id::text, 8) || '/database.dump' end,
       d.retention,
       case when r.pinned then r.started_at + interval '1 hour' end,
       case when r.pinned then 'bench' end,
       case when r.pinned then 'kept for the audit' end
  from bench_defs d
  cross join lateral (
    select gen_random_uuid() as id, k,
           $1::timestamptz
             - make_interval(hours => case when k < 20 then k * 24 + d.idx % 24
                                           else 480 + (k - 20) * 276 + d.idx % 24 end,
                             mins => (d.idx * 7) % 60) as started_at,
           5 + k % 20 as duration,
           (d.idx * ${RUNS_PER_DEFINITION} + k) % 13 = 5 as failed,
           (d.idx * ${RUNS_PER_DEFINITION} + k) % 13 <> 5 and (d.idx * ${RUNS_PER_DEFINITION} + k) % 997 = 0 as pinned
      from generate_series(0, ${RUNS_PER_DEFINITION - 1}) k
  ) r`;

/** The definitions as parameters of `insert into bench_defs select * from unnest(...)`. */
export function definitionColumns(defs: readonly FixtureDefinition[]): unknown[] {
  return [
    defs.map((d) => d.index),
    defs.map((d) => d.name),
    defs.map((d) => d.server),
    defs.map((d) => d.node),
    defs.map((d) => d.database),
    defs.map((d) => d.root),
    defs.map((d) => JSON.stringify(d.retention)),
  ];
}

export const createDefsSql = `
create temporary table bench_defs as
select * from unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::jsonb[])
  as t(idx, name, server, node, database, root, retention)`;
