import { readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { type RunEnd, type RunStart, upsertRun } from '../../catalogue/backup-runs.ts';
import type { Queryable } from '../../catalogue/catalogue-db.ts';
import { messageOf } from '../../errors.ts';
import { classifySqlError } from '../../sqlstate.ts';
import { processAlive } from '../../system/process-alive.ts';
import { ensureOwnDirs } from '../files/own-dirs.ts';
import { recoverRun } from './recover-run.ts';

/** A run's record waiting for the catalogue: its start, and its end once known. */
export interface SpooledRun {
  readonly start: RunStart;
  readonly end: RunEnd | null;
}

export function spoolDir(root: string): string {
  return join(root, '.spool');
}

/** Writes (or rewrites) a run's record under `<root>/.spool/<id>.json`, atomically. */
export async function spoolRun(root: string, run: SpooledRun): Promise<void> {
  const dir = ensureOwnDirs(root, '.spool');
  const file = join(dir, `${run.start.id}.json`);
  await writeFile(`${file}.tmp`, JSON.stringify(run), { mode: 0o600 });
  await rename(`${file}.tmp`, file);
}

/** A spool file a replay set aside instead of sending: it holds a run the catalogue does not have. */
export interface SetAside {
  /** `unreadable`: the file could not be parsed; `rejected`: the catalogue refused its data. */
  readonly kind: 'unreadable' | 'rejected';
  /** Where it now is (`….json.unreadable` or `….json.rejected`). */
  readonly path: string;
  readonly reason: string;
}

/** What a replay did: the records sent, and the files it set aside (for the run's notes and the agent's metrics). */
export interface SpoolReplay {
  sent: number;
  readonly setAside: SetAside[];
}

export function emptyReplay(): SpoolReplay {
  return { sent: 0, setAside: [] };
}

/**
 * Sends every spooled record to the catalogue, each as an upsert keyed by the run id, then removes its
 * file: a replay that is interrupted and repeated records each run exactly once. `into` is filled as the
 * replay goes, so what it set aside is known even when the catalogue fails part-way and this throws.
 */
export async function replaySpool(
  q: Queryable,
  root: string,
  into: SpoolReplay = emptyReplay(),
): Promise<SpoolReplay> {
  let files: string[];
  try {
    const all = await readdir(spoolDir(root));
    await reclaimAbandoned(root, all);
    files = (await readdir(spoolDir(root))).filter((f) => f.endsWith('.json')).sort();
  } catch {
    return into;
  }
  for (const f of files) {
    const path = join(spoolDir(root), f);
    let run: SpooledRun;
    try {
      run = parseSpooled(await readFile(path, 'utf8'));
    } catch (err) {
      // A torn or foreign file must not hold back every later record: kept aside for a human, not deleted.
      const moved = await rename(path, `${path}.unreadable`).then(
        () => true,
        () => false,
      );
      if (moved)
        into.setAside.push({ kind: 'unreadable', path: `${path}.unreadable`, reason: messageOf(err) });
      continue;
    }
    // Still being taken (by this host's process that wrote it, or on another host): its end will follow.
    if (run.end === null && stillRunning(run)) continue;
    // Claimed by an atomic rename, so two replays never send (or delete) the same version twice.
    const claimed = `${path}.sending-${process.pid}@${hostname()}`;
    try {
      await rename(path, claimed);
      run = parseSpooled(await readFile(claimed, 'utf8'));
    } catch {
      continue; // another replay took it
    }
    try {
      await upsertRun(q, { start: run.start, end: await endOf(root, run) });
    } catch (err) {
      if (classifySqlError(err) !== 'data') {
        // Not delivered (the catalogue is down, or anything else): back in the spool for the next replay.
        await rename(claimed, path);
        throw err;
      }
      // The catalogue refused this record's data: kept aside with the reason, the others go on.
      const why = messageOf(err);
      await writeFile(`${path}.rejected`, `${JSON.stringify({ ...run, rejected: why })}\n`, { mode: 0o600 });
      await rm(claimed, { force: true });
      into.setAside.push({ kind: 'rejected', path: `${path}.rejected`, reason: why });
      continue;
    }
    await rm(claimed, { force: true });
    into.sent++;
  }
  return into;
}

/** A start without an end is still being taken while its process lives (on another host: cannot tell, so yes). */
function stillRunning(run: SpooledRun): boolean {
  const host = run.start.host ?? hostname(); // records from before hosts were recorded came from this host
  const pid = run.start.pid ?? (run as { pid?: number }).pid;
  return host !== hostname() || (pid !== undefined && processAlive(pid));
}

/** The recorded end, or for a run whose process stopped first, what its files say (recoverRun). */
async function endOf(root: string, run: SpooledRun): Promise<RunEnd> {
  if (run.end !== null) return { ...run.end, finishedAt: new Date(run.end.finishedAt) }; // JSON gave a string
  const s = run.start;
  return recoverRun(root, { ...s, name: s.definition ?? s.snapshot ?? '', startedAt: new Date(s.startedAt) });
}

/** Claims left by a replay whose process died before finishing go back to the spool, to be sent again. */
async function reclaimAbandoned(root: string, names: readonly string[]): Promise<void> {
  for (const name of names) {
    const m = /^(.+\.json)\.sending-(\d+)@(.+)$/.exec(name);
    if (m === null || m[3] !== hostname() || processAlive(Number(m[2]))) continue;
    const original = join(spoolDir(root), m[1] as string);
    // A newer copy under the original name wins; an upsert by run id makes sending either one safe.
    if (names.includes(m[1] as string)) await rm(join(spoolDir(root), name), { force: true });
    else await rename(join(spoolDir(root), name), original).catch(() => undefined);
  }
}

function parseSpooled(text: string): SpooledRun {
  const run = JSON.parse(text) as SpooledRun;
  const s = run?.start;
  if (
    typeof s?.id !== 'string' ||
    Number.isNaN(new Date(s.startedAt).getTime()) ||
    typeof s.code !== 'string'
  )
    throw new Error('not a spooled run');
  if (run.end !== null && Number.isNaN(new Date(run.end?.finishedAt).getTime()))
    throw new Error('no end time');
  return run;
}
