import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { requirePrivate } from '../backup/record/job-cache.ts';
import type { DumpJob } from '../backup/run-dump.ts';
import { messageOf, PgbackmanError } from '../errors.ts';
import type { ScheduleEntry, Timing } from '../schedule/scheduler.ts';

/** What the agent last scheduled, kept so a restart while the catalogue is down goes on dumping. */
interface CachedSchedule {
  readonly version: 1;
  /** The catalogue it came from (password removed): never used for another. */
  readonly catalogue: string;
  readonly server: string;
  readonly cachedAt: string;
  readonly entries: readonly ScheduleEntry<DumpJob>[];
}

/** Written atomically, 0600 (it names nodes and where passwords come from, never a password). */
export async function saveSchedule(
  file: string,
  o: { catalogue: string; server: string; entries: readonly ScheduleEntry<DumpJob>[] },
): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const cached: CachedSchedule = { version: 1, ...o, cachedAt: new Date().toISOString() };
  await writeFile(`${file}.tmp`, JSON.stringify(cached), { mode: 0o600 });
  await rename(`${file}.tmp`, file);
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
  const cached = JSON.parse(text) as CachedSchedule;
  if (cached.version !== 1 || cached.catalogue !== o.catalogue || cached.server !== o.server)
    throw new PgbackmanError('NOT_FOUND', `${file} is the schedule of another catalogue or server`);
  return {
    cachedAt: cached.cachedAt,
    entries: cached.entries.map((e) => ({ ...e, timing: revive(e.timing) })),
  };
}

function revive(t: Timing): Timing {
  return t.kind === 'once' ? { kind: 'once', at: new Date(t.at) } : t;
}
