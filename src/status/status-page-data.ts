import { statfs } from 'node:fs/promises';
import { logTailOf } from '../alerts/alert-message.ts';
import { rootDirectoryOf } from '../backup/files/layout.ts';
import { listAgents } from '../catalogue/agents.ts';
import { lastRestoreTests, lastRuns, listBackups } from '../catalogue/backup-runs.ts';
import type { Queryable } from '../catalogue/catalogue-db.ts';
import { listObjects } from '../catalogue/list-objects.ts';
import {
  copiedBytes,
  fleetCounts,
  recentProblems,
  recentSizes,
  tallyKeptRuns,
} from '../catalogue/run-stats.ts';
import { statsReport } from '../report/stats-report.ts';
import { parentsOf } from '../schedule/definition-schedule.ts';
import { DEFAULT_GRACE_MS } from '../schedule/overdue.ts';
import { type StatusEntry, statusReport } from '../schedule/status-report.ts';
import type { DiskUse, StatusPageData } from './render-status-page.ts';

export interface PageContext {
  readonly server: string;
  readonly version: string;
  readonly refreshSeconds: number;
  readonly now: Date;
}

/** How many of each definition's last sizes the chart shows, and how many runs the page lists. */
export const SIZES = 12;
const RECENT = 25;

/**
 * Reads what the status page shows of one backup server, but the size charts (`pageSizes`: only the rows a
 * page shows): a few statements, whatever the history's length.
 */
export async function statusPageData(q: Queryable, ctx: PageContext): Promise<StatusPageData> {
  const { server, now } = ctx;
  const servers = await listObjects(q, 'BackupServer', { name: server });
  const definitions = await listObjects(q, 'BackupDefinition', { server });
  const snapshots = await listObjects(q, 'SnapshotDefinition', { server });
  const parents = parentsOf(await listObjects(q, 'PgSQLNode'), servers);
  const tested = definitions.filter((d) => d.spec.verify !== undefined).map((d) => d.name);
  const report = statusReport({
    definitions,
    snapshots,
    parents,
    runs: await lastRuns(q, { server }),
    now,
    grace: DEFAULT_GRACE_MS,
    restoreTests: tested.length === 0 ? new Map() : await lastRestoreTests(q, server, tested),
  });
  const scope = { server };
  const stats = statsReport({
    scope,
    now,
    counts: await fleetCounts(q, scope),
    tallies: await tallyKeptRuns(q, scope),
    problems: await recentProblems(q, scope, now),
  });
  const recent = await listBackups(q, { server, limit: RECENT, includeDeleted: true });
  const spec = servers[0]?.spec;
  return {
    server,
    at: now.toISOString(),
    version: ctx.version,
    refreshSeconds: ctx.refreshSeconds,
    entries: sortForPage(report.definitions),
    sizes: new Map(),
    recent: recent.map((r) => ({
      id: r.id,
      definition: r.definition ?? `snapshot:${r.snapshot}`,
      status: r.deletion === 'DELETED' ? `${r.status} (deleted)` : r.status,
      startedAt: r.startedAt,
      durationMs: r.durationMs,
      bytes: r.dumpBytes,
    })),
    failures: report.definitions.flatMap((e) =>
      e.state === 'FAILING' && e.lastFailure !== null
        ? [{ definition: e.name, at: e.lastFailure.at, error: logTailOf(e.lastFailure.error) ?? 'failed' }]
        : [],
    ),
    disk: spec === undefined ? [] : await diskUse(q, server, spec, stats.dumps.bytes),
    agents: await listAgents(q),
    stats,
  };
}

/** What needs a person first: FAILING, OVERDUE, NEVER, then OK and SUSPENDED; by name within each. */
const ORDER: Readonly<Record<string, number>> = { FAILING: 0, OVERDUE: 1, NEVER: 2, OK: 3, SUSPENDED: 4 };
function sortForPage(entries: StatusEntry[]): StatusEntry[] {
  return entries.sort((a, b) => (ORDER[a.state] ?? 9) - (ORDER[b.state] ?? 9) || (a.name < b.name ? -1 : 1));
}

/** The size charts of the definitions one page shows. */
export function pageSizes(
  q: Queryable,
  server: string,
  names: readonly string[],
): Promise<Map<string, number[]>> {
  return recentSizes(q, server, names, SIZES);
}

type ServerSpec = Parameters<typeof rootDirectoryOf>[0] & {
  readonly storage?: readonly {
    readonly name: string;
    readonly local?: { readonly path: string };
    readonly s3?: { readonly bucket: string; readonly prefix?: string };
  }[];
};

/** The root directory and each further destination: the file system's size and free space where it is local. */
async function diskUse(
  q: Queryable,
  server: string,
  spec: ServerSpec,
  rootBytes: number,
): Promise<DiskUse[]> {
  const copies = await copiedBytes(q, server);
  const fs = async (path: string) => {
    try {
      const s = await statfs(path);
      return { totalBytes: s.blocks * s.bsize, freeBytes: s.bavail * s.bsize };
    } catch {
      return { totalBytes: null, freeBytes: null };
    }
  };
  const root = rootDirectoryOf(spec);
  const out: DiskUse[] = [{ name: 'root', where: root, dumpBytes: rootBytes, ...(await fs(root)) }];
  for (const d of (spec.storage ?? []).filter((d) => d.local?.path !== root)) {
    if (d.local !== undefined)
      out.push({
        name: d.name,
        where: d.local.path,
        dumpBytes: copies.get(d.name) ?? 0,
        ...(await fs(d.local.path)),
      });
    else if (d.s3 !== undefined)
      out.push({
        name: d.name,
        where: `s3://${d.s3.bucket}/${d.s3.prefix ?? ''}`,
        dumpBytes: copies.get(d.name) ?? 0,
        totalBytes: null,
        freeBytes: null,
      });
  }
  return out;
}
