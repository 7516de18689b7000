import { createHash } from 'node:crypto';
import type { DumpJob } from '../backup/run-dump.ts';
import type { Queryable } from '../catalogue/catalogue-db.ts';
import {
  type CatalogueObject,
  countOnServer,
  listObjects,
  listSpecs,
  listVersions,
  type ObjectSpec,
} from '../catalogue/list-objects.ts';
import type { SpecOf } from '../manifest/kinds.ts';
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

type JobKind = DumpJob['kind'];
type Job = { readonly kind: JobKind } & ObjectSpec<JobKind>;

/** What an entry was built from: it is reused while all three are the same (the strings are compared, not joined). */
interface Built {
  readonly version: string;
  readonly node: string;
  readonly server: string;
  readonly entry: ScheduleEntry<DumpJob>;
}

/**
 * What an agent read last: its definitions and snapshots with their versions, and each one's entry. A
 * reschedule reads every version (a small row each) but only the objects that changed, and builds only
 * their entries: 200 changes among 20,000 do not cost 20,000 specs. Only what an entry needs is kept.
 */
export class WorkCache {
  readonly objects = new Map<string, { version: string; object: Job }>();
  readonly built = new Map<string, Built>();
  /** Per kind, the catalogue's serial when it was last read: later reads ask only what applies wrote since. */
  readonly serials = new Map<JobKind, number>();
}

/** This server's active definitions and its snapshots that have not run yet, each with when it is due. */
export async function readServerWork(
  q: Queryable,
  serverName: string,
  cache = new WorkCache(),
): Promise<ServerWork> {
  // One statement at a time: a connection runs them in order anyway, and pg wants them awaited.
  // The serial first: an apply that commits while the objects are read has a later one, so it is read again next time.
  const [head] = await q.query<{ serial: string }>('select serial::text from pgbackman.catalogue');
  const serial = Number(head?.serial ?? 0);
  const [server] = await listObjects(q, 'BackupServer', { name: serverName });
  const nodes = await listObjects(q, 'PgSQLNode');
  const jobs = [
    ...(await refresh(q, cache, 'BackupDefinition', serverName, serial)),
    ...(await refresh(q, cache, 'SnapshotDefinition', serverName, serial)),
  ];
  const ranSnapshots = await q.query<{ snapshot: string }>(
    'select distinct snapshot from pgbackman.backup_runs where server = $1 and snapshot is not null',
    [serverName],
  );
  const nodeLimits = new Map(nodes.map((n) => [n.name, n.spec.maxConcurrentDumps ?? 1]));
  if (server === undefined) return { server, entries: [], idle: [], nodeLimits, serial };
  const byName = new Map(nodes.map((n) => [n.name, { node: n, version: `${n.generation}@${n.updatedAt}` }]));
  const done = new Set(ranSnapshots.map((r) => r.snapshot));
  const entries: ScheduleEntry<DumpJob>[] = [];
  const idle: { key: string; why: string }[] = [];
  const serverPart = { name: server.name, spec: server.spec };
  const serverVersion = `${server.generation}@${server.updatedAt}`;
  // A node's or the server's spec is hashed once per read, not once per definition that uses it.
  const specHashes = new Map<object, string>();
  const specHash = (spec: object): string => {
    let h = specHashes.get(spec);
    if (h === undefined) {
      h = sha256(JSON.stringify(spec));
      specHashes.set(spec, h);
    }
    return h;
  };
  const live = new Set<string>();
  for (const { key, object: o, version } of jobs) {
    if (o.kind === 'SnapshotDefinition' && done.has(o.name)) continue;
    const found = byName.get(o.spec.node);
    if (found === undefined) continue; // its node is gone: nothing to dump
    const { node } = found;
    const why =
      server.spec.suspend === true
        ? `suspended (server ${server.name})`
        : node.spec.suspend === true
          ? `suspended (node ${node.name})`
          : o.spec.suspend === true
            ? 'suspended'
            : undefined;
    if (why !== undefined) {
      idle.push({ key, why });
      continue;
    }
    live.add(key);
    // The entry depends on the object, its node and its server: reused while none of them changed.
    const had = cache.built.get(key);
    if (had?.version === version && had.node === found.version && had.server === serverVersion) {
      entries.push(had.entry);
      continue;
    }
    const parts = {
      name: o.name,
      node: { name: node.name, spec: node.spec },
      server: serverPart,
      revision: o.revision,
    };
    const job: DumpJob =
      o.kind === 'BackupDefinition'
        ? { kind: 'BackupDefinition', spec: o.spec as SpecOf<'BackupDefinition'>, ...parts }
        : { kind: 'SnapshotDefinition', spec: o.spec as SpecOf<'SnapshotDefinition'>, ...parts };
    const timing = timingOf(job);
    const entry = { key, hash: hashOf(job, timing, specHash), timing, payload: job };
    cache.built.set(key, { version, node: found.version, server: serverVersion, entry });
    entries.push(entry);
  }
  for (const key of cache.built.keys()) if (!live.has(key)) cache.built.delete(key);
  return { server, entries, idle, nodeLimits, serial };
}

/**
 * The objects of one kind on this server: the cached ones whose version is unchanged, the others read again.
 * After a first whole read, only the versions written since the last serial are asked for, and the count
 * tells whether any left (deleted, renamed, moved to another server): then every version is read again.
 */
async function refresh(
  q: Queryable,
  cache: WorkCache,
  kind: JobKind,
  server: string,
  serial: number,
): Promise<{ key: string; object: Job; version: string }[]> {
  // A serial lower than the one last read is another catalogue (restored, re-created): read it whole.
  const last = cache.serials.get(kind);
  const since = last !== undefined && last <= serial ? last : undefined;
  let versions = since === undefined ? undefined : await listVersions(q, kind, { server, since });
  if (versions !== undefined) {
    let known = 0;
    for (const item of cache.objects.values()) if (item.object.kind === kind) known++;
    for (const name of versions.keys()) if (!cache.objects.has(`${kind}/${name}`)) known++;
    if (known !== (await countOnServer(q, kind, server))) versions = undefined;
  }
  const whole = versions === undefined;
  versions ??= await listVersions(q, kind, { server });
  const stale: string[] = [];
  for (const [name, version] of versions)
    if (cache.objects.get(`${kind}/${name}`)?.version !== version) stale.push(name);
  if (stale.length > 0)
    for (const o of await listSpecs(q, kind, server, stale)) {
      const version = versions.get(o.name);
      if (version !== undefined) cache.objects.set(`${kind}/${o.name}`, { version, object: { kind, ...o } });
    }
  const out: { key: string; object: Job; version: string }[] = [];
  for (const [key, item] of cache.objects) {
    if (item.object.kind !== kind) continue;
    const now = versions.get(item.object.name);
    // A whole read lists every object: one it does not list is gone. A partial one lists only the changed.
    if (now === undefined && whole) cache.objects.delete(key);
    else if (now === undefined || now === item.version) out.push({ key, ...item });
  }
  cache.serials.set(kind, serial);
  return out.sort((a, b) => (a.object.name < b.object.name ? -1 : a.object.name > b.object.name ? 1 : 0));
}

/** Everything that changes what runs or when: the job (its spec, node and server) and its timing. */
function hashOf(job: DumpJob, timing: Timing, specHash: (spec: object) => string): string {
  const { kind, name, spec, node, server } = job;
  return sha256(
    JSON.stringify([
      kind,
      name,
      spec,
      node.name,
      specHash(node.spec),
      server.name,
      specHash(server.spec),
      timing,
    ]),
  );
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('base64url');
}
