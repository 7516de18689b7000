import { lastRuns } from '../catalogue/backup-runs.ts';
import type { Queryable } from '../catalogue/catalogue-db.ts';
import { listObjects } from '../catalogue/list-objects.ts';
import type { Notify } from '../manifest/generated/manifest-types.ts';
import { parentsOf } from '../schedule/definition-schedule.ts';
import { type StatusEntry, statusReport } from '../schedule/status-report.ts';

/** A definition (or snapshot) of this server with no success by its due time plus grace. */
export interface OverdueNotice {
  readonly kind: 'BackupDefinition' | 'SnapshotDefinition';
  readonly definition: string;
  readonly server: string;
  readonly node: string;
  readonly database: string | null;
  /** The notify of the definition, its node and its server, nearest first (null where none). */
  readonly notify: readonly (Notify | null)[];
  readonly lastSuccess: { readonly id: string; readonly at: string } | null;
  /** When it became OVERDUE: the due time its last success did not answer, plus grace. */
  readonly dueBy: string;
}

/**
 * Which OVERDUE entries are news: those not said yet for this due time. `said` (address → dueBy) is what was
 * said before; the result keeps only what is still overdue, so a definition that succeeds and falls behind
 * again is said again. Pure.
 */
export function newlyOverdue(
  entries: readonly StatusEntry[],
  said: ReadonlyMap<string, string>,
): { readonly news: StatusEntry[]; readonly said: Map<string, string> } {
  const now = new Map<string, string>();
  const news: StatusEntry[] = [];
  for (const e of entries) {
    if (e.state !== 'OVERDUE' || e.dueBy === null) continue;
    const address = `${e.kind}/${e.name}`;
    if (said.get(address) !== e.dueBy) news.push(e);
    now.set(address, e.dueBy);
  }
  return { news, said: now };
}

/** This server's definitions and snapshots as `status` sees them now, with their notify blocks. */
export async function serverHealth(
  q: Queryable,
  server: string,
  now: Date,
  grace: number,
): Promise<{ readonly entries: StatusEntry[]; readonly notify: (e: StatusEntry) => (Notify | null)[] }> {
  const servers = await listObjects(q, 'BackupServer', { name: server });
  const definitions = await listObjects(q, 'BackupDefinition', { server });
  const snapshots = await listObjects(q, 'SnapshotDefinition', { server });
  const nodes = await listObjects(q, 'PgSQLNode');
  const runs = await lastRuns(q, { server });
  const parents = parentsOf(nodes, servers);
  const report = statusReport({ definitions, snapshots, parents, runs, now, grace });
  const own = new Map(definitions.map((d) => [d.name, d.spec.notify ?? null]));
  return {
    entries: report.definitions,
    notify: (e) => [
      e.kind === 'BackupDefinition' ? (own.get(e.name) ?? null) : null,
      parents.nodes.get(e.node)?.spec.notify ?? null,
      parents.servers.get(e.server)?.spec.notify ?? null,
    ],
  };
}

/** The notice of one newly overdue entry. */
export function overdueNotice(e: StatusEntry, notify: readonly (Notify | null)[]): OverdueNotice {
  return {
    kind: e.kind,
    definition: e.name,
    server: e.server,
    node: e.node,
    database: e.database,
    notify,
    lastSuccess: e.lastSuccess === null ? null : { id: e.lastSuccess.id, at: e.lastSuccess.at },
    dueBy: e.dueBy as string,
  };
}
