// The agent benchmark's manifests: one BackupServer, NODES PgSQLNodes and 20,000 BackupDefinitions on it,
// each daily at its own second of the day (6-field cron, UTC), so they are spread and never due at once.
// `due` rewrites every CHANGE_EVERY-th definition to one pattern: 200 definitions due in the same second.
// `spread` puts the definitions on several BackupServers instead (the scale-out benchmark's fleet).
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const AGENT_SERVER = 'bk-agent';
export const DEFINITIONS = 20_000;
export const NODES = 8;
export const FILES = 20;
/** Every this many definitions, one is changed (1%: 200 of 20,000). */
export const CHANGE_EVERY = 100;
export const SERVER_LIMIT = 256;
export const NODE_LIMIT = 64;

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** Several servers and how many definitions in all; the default is the agent benchmark's one server. */
export interface Spread {
  readonly servers: number;
  readonly definitions: number;
}
const ONE: Spread = { servers: 1, definitions: DEFINITIONS };

/** Server `s` (0-based) of a fleet; the one-server fixture keeps its old name. */
export const serverName = (s: number, spread: Spread = ONE): string =>
  spread.servers === 1 ? AGENT_SERVER : `${AGENT_SERVER}-${pad(s + 1)}`;

/** Definition `i`'s server: contiguous blocks, so every server gets its share of the changed ones. */
export const serverOf = (i: number, spread: Spread = ONE): string =>
  serverName(Math.floor((i * spread.servers) / spread.definitions), spread);

/** `S M H * * *` for a second of the day. */
export function dailyAt(secondOfDay: number): string {
  const s = secondOfDay % 60;
  const m = Math.floor(secondOfDay / 60) % 60;
  const h = Math.floor(secondOfDay / 3600) % 24;
  return `${s} ${m} ${h} * * *`;
}

/** The 6-field pattern due once a day at `at`'s whole second, in UTC. */
export function patternAt(at: Date): string {
  return `${at.getUTCSeconds()} ${at.getUTCMinutes()} ${at.getUTCHours()} * * *`;
}

/** Definition `i`'s node: blocks of CHANGE_EVERY, so the changed ones fall evenly on every node. */
const nodeOf = (i: number): string => `pg-${pad((Math.floor(i / CHANGE_EVERY) % NODES) + 1)}`;
export const definitionName = (i: number): string => `def-${pad(i, 5)}`;
export const isChanged = (i: number): boolean => i % CHANGE_EVERY === 0;

function server(root: string, name: string): string {
  return [
    'apiVersion: pgbackman.io/v1',
    'kind: BackupServer',
    'metadata:',
    `  name: ${name}`,
    'spec:',
    `  hostname: ${name}.example.net`,
    `  rootDirectory: ${root}`,
    `  maxConcurrentDumps: ${SERVER_LIMIT}`,
    '  defaults:',
    '    retention: { period: 7d, redundancy: 2 }',
    '    timezone: UTC',
  ].join('\n');
}

function node(n: number): string {
  return [
    'apiVersion: pgbackman.io/v1',
    'kind: PgSQLNode',
    'metadata:',
    `  name: pg-${pad(n)}`,
    'spec:',
    '  host: 127.0.0.1',
    '  port: 5432',
    '  user: postgres',
    `  maxConcurrentDumps: ${NODE_LIMIT}`,
  ].join('\n');
}

function definition(i: number, schedule: string, spread: Spread): string {
  return [
    'apiVersion: pgbackman.io/v1',
    'kind: BackupDefinition',
    'metadata:',
    `  name: ${definitionName(i)}`,
    'spec:',
    `  server: ${serverOf(i, spread)}`,
    `  node: ${nodeOf(i)}`,
    `  database: db${pad(i % 50)}`,
    '  code: FULL',
    `  schedule: "${schedule}"`,
  ].join('\n');
}

/**
 * Writes the manifests to `dir` (replacing it); with `due`, the changed definitions are due at that pattern.
 * Returns how many definitions it changed.
 */
export function writeAgentFixture(dir: string, root: string, due?: string, spread: Spread = ONE): number {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'definitions'), { recursive: true });
  const docs = (list: readonly string[]) => list.map((d) => `---\n${d}\n`).join('');
  const servers = Array.from({ length: spread.servers }, (_, s) => serverName(s, spread));
  writeFileSync(join(dir, 'server.yaml'), docs(servers.map((name) => server(root, name))));
  writeFileSync(join(dir, 'nodes.yaml'), docs(Array.from({ length: NODES }, (_, n) => node(n + 1))));
  const perFile = spread.definitions / FILES;
  let changed = 0;
  for (let f = 0; f < FILES; f++) {
    const list: string[] = [];
    for (let i = f * perFile; i < (f + 1) * perFile; i++) {
      const change = due !== undefined && isChanged(i);
      if (change) changed++;
      // Spread over the day: 86,400 s / 20,000 definitions, a distinct second each.
      const schedule = change ? due : dailyAt(Math.floor((i * 86_400) / spread.definitions));
      list.push(definition(i, schedule, spread));
    }
    writeFileSync(join(dir, 'definitions', `part-${pad(f + 1)}.yaml`), docs(list));
  }
  return changed;
}
