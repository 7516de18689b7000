import { dirname, relative, sep } from 'node:path';
import { rootDirectoryOf } from '../backup/files/layout.ts';
import { runLockHeld } from '../backup/files/run-lock.ts';
import { type BackupRun, listBackups, setCopyOutcome } from '../catalogue/backup-runs.ts';
import type { Queryable } from '../catalogue/catalogue-db.ts';
import {
  copiesOf,
  type DumpCopy,
  leftoverCopies,
  missingCopies,
  pendingCopies,
  recordCopy,
} from '../catalogue/dump-copies.ts';
import { listObjects } from '../catalogue/list-objects.ts';
import type { SpecOf } from '../manifest/kinds.ts';
import type { AllowedDestination } from './allowed-destinations.ts';
import { type CopyRequest, copyDump } from './copy-dump.ts';
import { fetchCopyIfGone } from './fetch-copy.ts';
import { releasePass } from './release-root.ts';
import { removeCopies } from './remove-copies.ts';
import { furtherDestinationsOf, furtherOf, stagesInRoot } from './run-destinations.ts';
import { sweepDebris } from './sweep-debris.ts';

export interface RetryReport {
  /** SUCCEEDED_PARTIAL dumps looked at, and how many became SUCCEEDED. */
  readonly runs: number;
  readonly completed: number;
  /** Copies tried again, and how many of them failed again. */
  readonly tried: number;
  readonly failed: number;
  /** Temporary files of writes killed mid-way, removed from local destinations in this pass. */
  readonly debris?: number;
  /** Copies of deleted dumps removed from their destinations in this pass. */
  readonly removed: number;
  /** Folders of dumps only staged in the root directory, removed in this pass once every destination held them. */
  readonly released?: number;
}

/** At most this many dumps are looked at in one pass, the newest first: a long outage does not make one pass endless. */
const PER_PASS = 50;

/**
 * Tries again, from the dump in the root directory, each copy a SUCCEEDED_PARTIAL dump of `server` lacks,
 * to the destinations the server still lists; records each outcome, and makes the dump SUCCEEDED once every
 * destination has it. A destination no longer listed is not tried (nor counted as missing); one that fails is
 * not tried again until the next pass.
 */
/** The run lock of the definition (or snapshot) a run belongs to, as run-dump takes it. */
function runLockKey(run: { readonly definition: string | null; readonly snapshot: string | null }): string {
  return run.definition !== null
    ? `BackupDefinition-${run.definition}`
    : `SnapshotDefinition-${run.snapshot}`;
}

export async function retryCopies(
  q: Queryable,
  server: string,
  o: {
    allowed: readonly AllowedDestination[];
    env: NodeJS.ProcessEnv;
    secretsDir: string;
    signal?: AbortSignal;
    /** Each run's copies made or failed again, as they are. */
    onCopies?: (copies: readonly DumpCopy[]) => void;
  },
): Promise<RetryReport> {
  const [object] = await listObjects(q, 'BackupServer', { name: server });
  const runs = (await listBackups(q, { server, status: 'SUCCEEDED_PARTIAL', limit: PER_PASS })).filter(
    (b) => b.deletion === null && b.dumpPath !== null,
  );
  const copies = await copiesOf(
    q,
    runs.map((r) => r.id),
  );
  const down = new Set<string>();
  let completed = 0;
  let tried = 0;
  let failed = 0;
  for (const run of runs) {
    if (o.signal?.aborted) break;
    // A run still under way is copying (and may release) this very folder itself: left to it.
    if (object !== undefined && runLockHeld(rootDirectoryOf(object.spec), runLockKey(run))) continue;
    // The run's definition's own storage when it has one, else the server's.
    const listed = new Map(
      (object === undefined ? [] : await furtherDestinationsOf(q, run, object.spec)).map((d) => [d.name, d]),
    );
    const copied = new Set(
      (copies.get(run.id) ?? []).filter((c) => c.status === 'COPIED').map((c) => c.destination),
    );
    // Every listed destination without a good copy: one that failed, and one never tried (the process was
    // killed between the dump and its copies). A destination that failed once in this pass is not tried
    // again in it: a store that is down costs one try (and its timeouts) per pass, not one per dump.
    const again = [...listed.values()].filter((d) => !copied.has(d.name) && !down.has(d.name));
    // The root's folder, or (released from the root, or lost there) a copy fetched from another destination.
    const source =
      again.length === 0 || object === undefined ? undefined : await sourceOf(q, run, object.spec, o);
    if (source !== undefined && source.dir === undefined) {
      tried += again.length;
      failed += again.length;
    } else if (source !== undefined) {
      const root = rootDirectoryOf(object?.spec ?? {});
      const outcomes = await copyDump({
        runId: run.id,
        root,
        dir: source.dir as string,
        folder: relative(root, dirname(run.dumpPath as string))
          .split(sep)
          .join('/'),
        recorded: (run.sha256 ?? {}) as CopyRequest['recorded'],
        destinations: again,
        allowed: o.allowed,
        env: o.env,
        secretsDir: o.secretsDir,
        ...(o.signal === undefined ? {} : { signal: o.signal }),
      }).finally(source.done);
      for (const c of outcomes) {
        await recordCopy(q, c);
        if (c.status === 'FAILED') down.add(c.destination);
      }
      o.onCopies?.(outcomes);
      tried += outcomes.length;
      failed += outcomes.filter((c) => c.status === 'FAILED').length;
    }
    const now = (await copiesOf(q, [run.id])).get(run.id) ?? [];
    const good = new Set(now.filter((c) => c.status === 'COPIED').map((c) => c.destination));
    const absent = [...listed.keys()].filter((n) => !good.has(n) && !now.some((c) => c.destination === n));
    const missing =
      [
        missingCopies(now.filter((c) => listed.has(c.destination))),
        ...(absent.length === 0 ? [] : [pendingCopies(absent)]),
      ]
        .filter((m) => m !== null)
        .join('; ') || null;
    await setCopyOutcome(q, run.id, missing);
    if (missing === null) completed++;
  }
  // Copies retention could not remove when their dump was deleted (a destination down then): removed now.
  let removed = 0;
  const ctx = { allowed: o.allowed, env: o.env, secretsDir: o.secretsDir };
  const spec = object?.spec;
  for (const id of spec === undefined ? [] : await leftoverCopies(q, server, PER_PASS)) {
    if (o.signal?.aborted || spec === undefined) break;
    const [run] = await listBackups(q, { id, includeDeleted: true, limit: 1 });
    if (run !== undefined) removed += (await removeCopies(q, run, spec, ctx)).removed.length;
  }
  const definitions = [
    ...(await listObjects(q, 'BackupDefinition', { server })),
    ...(await listObjects(q, 'SnapshotDefinition', { server })),
  ];
  // Dumps only staged in the root (their storage starts with a bucket), now held everywhere: folders removed.
  const serverStages = stagesInRoot(spec?.storage ?? []);
  const staging = definitions.filter((d) => stagesInRoot(d.spec.storage ?? [])).map((d) => d.name);
  const released =
    spec === undefined || (!serverStages && staging.length === 0) || o.signal?.aborted
      ? 0
      : await releasePass(
          q,
          { name: server, spec },
          rootDirectoryOf(spec),
          o.allowed,
          serverStages ? undefined : staging,
        );
  // What writes killed mid-way (SIGKILL) left in the server's local destinations and its definitions' own.
  const own = definitions.flatMap((d) => furtherOf(d.spec.storage ?? []));
  const debris = o.signal?.aborted
    ? []
    : await sweepDebris([...furtherOf(spec?.storage ?? []), ...own], o.allowed);
  return {
    runs: runs.length,
    completed,
    tried,
    failed,
    removed,
    ...(released === 0 ? {} : { released }),
    ...(debris.length === 0 ? {} : { debris: debris.length }),
  };
}

/**
 * Where a dump's copies are made from: its folder in the root, or a copy fetched from another destination
 * into `<root>/.fetch/` (`done` removes it); `dir` undefined when neither can be had.
 */
async function sourceOf(
  q: Queryable,
  run: BackupRun,
  server: SpecOf<'BackupServer'>,
  o: { allowed: readonly AllowedDestination[]; env: NodeJS.ProcessEnv; secretsDir: string },
): Promise<{ dir: string | undefined; done: () => Promise<void> }> {
  const fetched = await fetchCopyIfGone(q, run, server, o);
  if (fetched === undefined) return { dir: dirname(run.dumpPath as string), done: async () => undefined };
  if (fetched.run === undefined) return { dir: undefined, done: async () => undefined };
  return { dir: dirname(fetched.run.dumpPath as string), done: fetched.remove };
}
