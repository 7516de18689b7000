import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { requirePrivate } from '../backup/record/job-cache.ts';
import type { DumpJob } from '../backup/run-dump.ts';
import { messageOf, PgbackmanError } from '../errors.ts';
import type { ScheduleEntry, Timing } from '../schedule/scheduler.ts';

/**
 * What the agent last scheduled, kept so a restart while the catalogue is down goes on dumping. JSON lines:
 * a header, each node and the server once, then one line per entry naming its node: 20,000 entries never
 * repeat their node's and server's specs, and are written a batch at a time, never as one string.
 */
interface Header {
  readonly version: 2;
  /** The catalogue it came from (password removed): never used for another. */
  readonly catalogue: string;
  readonly server: string;
  readonly cachedAt: string;
}
type Part = DumpJob['node'];
type Line =
  | { readonly node: Part }
  | { readonly server: DumpJob['server'] }
  | {
      readonly key: string;
      readonly hash: string;
      readonly timing: Timing;
      readonly kind: DumpJob['kind'];
      readonly name: string;
      readonly spec: DumpJob['spec'];
      readonly nodeName: string;
      readonly revision: string | null;
    };

const BATCH = 500;
/** Two saves may overlap (a NOTIFY during a reconcile): each writes its own temporary file, the last rename wins. */
let saves = 0;

/** Written atomically, 0600 (it names nodes and where passwords come from, never a password). */
export async function saveSchedule(
  file: string,
  o: { catalogue: string; server: string; entries: readonly ScheduleEntry<DumpJob>[] },
): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const header: Header = {
    version: 2,
    catalogue: o.catalogue,
    server: o.server,
    cachedAt: new Date().toISOString(),
  };
  const tmp = `${file}.${process.pid}-${++saves}.tmp`;
  const out = await open(tmp, 'w', 0o600);
  try {
    let lines: string[] = [JSON.stringify(header)];
    const flush = async () => {
      await out.write(`${lines.join('\n')}\n`);
      lines = [];
    };
    const nodes = new Set<string>();
    let server = false;
    for (const e of o.entries) {
      const job = e.payload;
      if (!nodes.has(job.node.name)) {
        nodes.add(job.node.name);
        lines.push(JSON.stringify({ node: job.node } satisfies Line));
      }
      if (!server) {
        server = true;
        lines.push(JSON.stringify({ server: job.server } satisfies Line));
      }
      const line: Line = {
        key: e.key,
        hash: e.hash,
        timing: e.timing,
        kind: job.kind,
        name: job.name,
        spec: job.spec,
        nodeName: job.node.name,
        revision: job.revision ?? null,
      };
      lines.push(JSON.stringify(line));
      if (lines.length >= BATCH) await flush();
    }
    await flush();
    await out.sync();
    await out.close();
    await rename(tmp, file);
  } catch (err) {
    await out.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw err;
  }
}

/** The schedule cached for this catalogue and server, or an error saying why there is none. */
export async function loadSchedule(
  file: string,
  o: { catalogue: string; server: string },
): Promise<{ cachedAt: string; entries: ScheduleEntry<DumpJob>[] }> {
  let text: string;
  try {
    await requirePrivate(file);
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (err instanceof PgbackmanError) throw err;
    throw new PgbackmanError('NOT_FOUND', `no cached schedule in ${file} (${messageOf(err)})`);
  }
  const lines = text.split('\n').filter((l) => l !== '');
  const header = JSON.parse(lines[0] ?? '{}') as Omit<Partial<Header>, 'version'> & { version?: number };
  // Written by the previous release (one JSON document): still the schedule to run after an upgrade.
  if (header.version === 1) return loadVersion1(file, header as unknown as CachedV1, o);
  if (header.version !== 2)
    throw new PgbackmanError('NOT_FOUND', `${file} is a schedule of an unknown format`);
  if (header.catalogue !== o.catalogue || header.server !== o.server)
    throw new PgbackmanError('NOT_FOUND', `${file} is the schedule of another catalogue or server`);
  const nodes = new Map<string, Part>();
  let server: DumpJob['server'] | undefined;
  const entries: ScheduleEntry<DumpJob>[] = [];
  for (const text of lines.slice(1)) {
    const line = JSON.parse(text) as Line;
    if ('node' in line) nodes.set(line.node.name, line.node);
    else if ('server' in line) server = line.server;
    else {
      const node = nodes.get(line.nodeName);
      if (node === undefined || server === undefined)
        throw new PgbackmanError('NOT_FOUND', `${file} is incomplete (no node ${line.nodeName})`);
      const job = {
        kind: line.kind,
        name: line.name,
        spec: line.spec,
        node,
        server,
        revision: line.revision,
      };
      entries.push({ key: line.key, hash: line.hash, timing: revive(line.timing), payload: job as DumpJob });
    }
  }
  return { cachedAt: header.cachedAt ?? '', entries };
}

/** The previous release's file: every entry whole, in one document. */
interface CachedV1 {
  readonly version: 1;
  readonly catalogue: string;
  readonly server: string;
  readonly cachedAt: string;
  readonly entries: readonly ScheduleEntry<DumpJob>[];
}

function loadVersion1(
  file: string,
  cached: CachedV1,
  o: { catalogue: string; server: string },
): { cachedAt: string; entries: ScheduleEntry<DumpJob>[] } {
  if (cached.catalogue !== o.catalogue || cached.server !== o.server || !Array.isArray(cached.entries))
    throw new PgbackmanError('NOT_FOUND', `${file} is the schedule of another catalogue or server`);
  return {
    cachedAt: cached.cachedAt,
    entries: cached.entries.map((e) => ({ ...e, timing: revive(e.timing) })),
  };
}

function revive(t: Timing): Timing {
  return t.kind === 'once' ? { kind: 'once', at: new Date(t.at) } : t;
}
