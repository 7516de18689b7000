import { createHash } from 'node:crypto';
import type { DumpJob } from '../backup/run-dump.ts';
import type { Queryable } from '../catalogue/catalogue-db.ts';
import { type CatalogueObject, listObjects } from '../catalogue/list-objects.ts';
import type { ScheduleEntry, Timing } from '../schedule/scheduler.ts';
import { timingOf } from './timing.ts';

/** What one agent executes: its server's limits and every dump it schedules, as the catalogue has them. */
export interface ServerWork {
  readonly server: CatalogueObject<'BackupServer'> | undefined;
  readonly entries: readonly ScheduleEntry<DumpJob>[];
  /** Definitions that schedule nothing, and why (`suspended (node pg01)`). */
  readonly idle: readonly { readonly key: string; readonly why: string }[];
  readonly nodeLimits: ReadonlyMap<string, number>;
  /** The catalogue's apply serial when this was read: a new one means something may have changed. */
  readonly serial: number;
}

/** This server's active definitions and its snapshots that have not run yet, each with when it is due. */
export async function readServerWork(q: Queryable, serverName: string): Promise<ServerWork> {
  // One statement at a time: a connection runs them in order anyway, and pg wants them awaited.
  const [server] = await listObjects(q, 'BackupServer', { name: serverName });
  const nodes = await listObjects(q, 'PgSQLNode');
  const definitions = await listObjects(q, 'BackupDefinition', { server: serverName });
  const snapshots = await listObjects(q, 'SnapshotDefinition', { server: serverName });
  const [head] = await q.query<{ serial: string }>('select serial::text from pgbackman.catalogue');
  const ranSnapshots = await q.query<{ snapshot: string }>(
    'select distinct snapshot from pgbackman.backup_runs where server = $1 and snapshot is not null',
    [serverName],
  );
  const serial = Number(head?.serial ?? 0);
  const nodeLimits = new Map(nodes.map((n) => [n.name, n.spec.maxConcurrentDumps ?? 1]));
  if (server === undefined) return { server, entries: [], idle: [], nodeLimits, serial };
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const done = new Set(ranSnapshots.map((r) => r.snapshot));
  const entries: ScheduleEntry<DumpJob>[] = [];
  const idle: { key: string; why: string }[] = [];
  const serverPart = { name: server.name, spec: server.spec };
  const add = (job: DumpJob, own: { suspend?: boolean | undefined }) => {
    const key = `${job.kind}/${job.name}`;
    const why =
      server.spec.suspend === true
        ? `suspended (server ${server.name})`
        : job.node.spec.suspend === true
          ? `suspended (node ${job.node.name})`
          : own.suspend === true
            ? 'suspended'
            : undefined;
    if (why !== undefined) return idle.push({ key, why });
    const timing = timingOf(job);
    entries.push({ key, hash: hashOf(job, timing), timing, payload: job });
  };
  // What every job of this server shares: its node (a definition whose node is gone schedules nothing).
  const partsOf = (o: CatalogueObject<'BackupDefinition'> | CatalogueObject<'SnapshotDefinition'>) => {
    const node = byName.get(o.spec.node);
    if (node === undefined) return undefined;
    const nodePart = { name: node.name, spec: node.spec };
    return { name: o.name, node: nodePart, server: serverPart, revision: o.source.revision };
  };
  for (const d of definitions) {
    const parts = partsOf(d);
    if (parts !== undefined) add({ kind: 'BackupDefinition', spec: d.spec, ...parts }, d.spec);
  }
  for (const s of snapshots) {
    const parts = done.has(s.name) ? undefined : partsOf(s);
    if (parts !== undefined) add({ kind: 'SnapshotDefinition', spec: s.spec, ...parts }, s.spec);
  }
  return { server, entries, idle, nodeLimits, serial };
}

/** Everything that changes what runs or when: the job (its spec, node and server) and its timing. */
function hashOf(job: DumpJob, timing: Timing): string {
  const { revision: _ignored, ...work } = job;
  return createHash('sha256')
    .update(JSON.stringify([work, timing]))
    .digest('hex');
}
