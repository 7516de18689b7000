import { isGoodRun, RUN_STATUSES } from '../catalogue/backup-runs.ts';
import type { FleetCounts, RecentProblems, RunTally } from '../catalogue/run-stats.ts';

/** What `pgbackman stats` answers: what is covered, what failed, how much space. */
export interface StatsReport {
  readonly scope: { readonly server: string | null; readonly node: string | null };
  readonly at: string;
  readonly servers: number;
  readonly nodes: number;
  readonly definitions: number;
  readonly suspendedDefinitions: number;
  readonly snapshots: number;
  /** The dumps that are there (retention has not deleted them), by status. */
  readonly dumps: {
    readonly total: number;
    readonly byStatus: Readonly<Record<(typeof RUN_STATUSES)[number], number>>;
    readonly bytes: number;
    /** The oldest and newest good dump (SUCCEEDED or SUCCEEDED_PARTIAL); null when there is none. */
    readonly oldest: string | null;
    readonly newest: string | null;
  };
  readonly perNode: readonly NodeStats[];
  readonly perServer: readonly { readonly server: string; readonly dumps: number; readonly bytes: number }[];
  readonly failures: { readonly last24h: number; readonly last7d: number };
  readonly missed: { readonly last24h: number; readonly last7d: number };
  readonly verify: {
    readonly definitions: number;
    /** Definitions with spec.verify (scheduled restore tests). */
    readonly restoreTestedDefinitions: number;
    readonly goodDumps: number;
    /** Good dumps whose files a verify re-hashed and found intact. */
    readonly hashVerified: number;
    /** Good dumps a restore test restored and found VERIFIED. */
    readonly restoreTested: number;
    /** hashVerified / goodDumps, 0..1 (1 when there are no good dumps). */
    readonly coverage: number;
  };
}

export interface NodeStats {
  readonly node: string;
  readonly dumps: number;
  readonly goodDumps: number;
  readonly bytes: number;
  readonly oldest: string | null;
  readonly newest: string | null;
}

export interface StatsInput {
  readonly scope: { readonly server?: string; readonly node?: string };
  readonly now: Date;
  readonly counts: FleetCounts;
  readonly tallies: readonly RunTally[];
  readonly problems: RecentProblems;
}

const earlier = (a: string | null, b: string | null) => (a === null || (b !== null && b < a) ? b : a);
const later = (a: string | null, b: string | null) => (a === null || (b !== null && b > a) ? b : a);

/** The report from the catalogue's counts: pure, so its arithmetic is tested without a database. */
export function statsReport({ scope, now, counts, tallies, problems }: StatsInput): StatsReport {
  const byStatus = Object.fromEntries(RUN_STATUSES.map((s) => [s, 0])) as Record<
    (typeof RUN_STATUSES)[number],
    number
  >;
  const nodes = new Map<
    string,
    { dumps: number; goodDumps: number; bytes: number; oldest: string | null; newest: string | null }
  >();
  const servers = new Map<string, { dumps: number; bytes: number }>();
  let oldest: string | null = null;
  let newest: string | null = null;
  let good = 0;
  let hashVerified = 0;
  let restoreTested = 0;
  for (const t of tallies) {
    if (t.status in byStatus) byStatus[t.status as keyof typeof byStatus] += t.dumps;
    const n = nodes.get(t.node) ?? { dumps: 0, goodDumps: 0, bytes: 0, oldest: null, newest: null };
    const s = servers.get(t.server) ?? { dumps: 0, bytes: 0 };
    n.dumps += t.dumps;
    n.bytes += t.bytes;
    s.dumps += t.dumps;
    s.bytes += t.bytes;
    if (isGoodRun(t.status)) {
      n.goodDumps += t.dumps;
      n.oldest = earlier(n.oldest, t.oldest);
      n.newest = later(n.newest, t.newest);
      oldest = earlier(oldest, t.oldest);
      newest = later(newest, t.newest);
      good += t.dumps;
      hashVerified += t.hashVerified;
      restoreTested += t.restoreTested;
    }
    nodes.set(t.node, n);
    servers.set(t.server, s);
  }
  const sum = (k: 'dumps' | 'bytes') => tallies.reduce((a, t) => a + t[k], 0);
  return {
    scope: { server: scope.server ?? null, node: scope.node ?? null },
    at: now.toISOString(),
    servers: counts.servers,
    nodes: counts.nodes,
    definitions: counts.definitions,
    suspendedDefinitions: counts.suspendedDefinitions,
    snapshots: counts.snapshots,
    dumps: { total: sum('dumps'), byStatus, bytes: sum('bytes'), oldest, newest },
    perNode: [...nodes].map(([node, n]) => ({ node, ...n })).sort((a, b) => a.node.localeCompare(b.node)),
    perServer: [...servers]
      .map(([server, s]) => ({ server, ...s }))
      .sort((a, b) => a.server.localeCompare(b.server)),
    failures: { last24h: problems.failed24h, last7d: problems.failed7d },
    missed: { last24h: problems.missed24h, last7d: problems.missed7d },
    verify: {
      definitions: counts.definitions,
      restoreTestedDefinitions: counts.restoreTestedDefinitions,
      goodDumps: good,
      hashVerified,
      restoreTested,
      coverage: good === 0 ? 1 : hashVerified / good,
    },
  };
}
