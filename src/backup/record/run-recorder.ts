import { selectRunningOnHost, setCopyOutcome } from '../../catalogue/backup-runs.ts';
import type { Queryable } from '../../catalogue/catalogue-db.ts';
import { type CatalogueSession, heldSession, isCatalogueSession } from '../../catalogue/catalogue-session.ts';
import { type DumpCopy, missingCopies, pendingCopies, recordCopy } from '../../catalogue/dump-copies.ts';
import { listObjects } from '../../catalogue/list-objects.ts';
import { messageOf, PgbackmanError } from '../../errors.ts';
import type { Logger } from '../../observability/logger.ts';
import type { AllowedDestination } from '../../storage/allowed-destinations.ts';
import { releaseRoot } from '../../storage/release-root.ts';
import {
  furtherDestinationsOf,
  type StorageDestination,
  stagesInRoot,
} from '../../storage/run-destinations.ts';
import { processAlive } from '../../system/process-alive.ts';
import {
  findInterrupted,
  type InterruptedRun,
  type RunEnd,
  type RunStart,
  recordEnd,
  recordStart,
} from './record-run.ts';
import { recoverRun } from './recover-run.ts';
import { replaySpool, type SetAside, type SpooledRun, type SpoolReplay, spoolRun } from './spool.ts';

/**
 * Records a run in the catalogue; when the catalogue cannot be reached (or refuses the record) the dump goes
 * on and the record is spooled to disk, to be replayed (exactly once, by run id) at the next contact.
 * The catalogue is reached through a session, so the embedded one is held only while a record is written.
 */
export class RunRecorder {
  #start: RunStart | undefined;
  /** Why the record went to the spool instead of the catalogue; undefined while it has not. */
  spoolReason: string | undefined;
  /** Spool files the replay set aside (unreadable, or refused by the catalogue): reported, and counted. */
  readonly setAside: SetAside[] = [];
  readonly #catalogue: CatalogueSession;
  readonly #root: string;
  readonly #log: Logger;
  /** prepare()'s open of the catalogue: resolves to its failure, or undefined. */
  #opening: Promise<unknown> | undefined;
  /** A Queryable is a connection the caller holds and closes. */
  constructor(catalogue: CatalogueSession | Queryable, root: string, log: Logger) {
    this.#catalogue = isCatalogueSession(catalogue) ? catalogue : heldSession(catalogue);
    this.#root = root;
    this.#log = log;
  }

  get spooled(): boolean {
    return this.spoolReason !== undefined;
  }

  /**
   * Opens the catalogue for the next record now, while the run does something else (asks the node, hashes
   * the dump): the record then costs its statement only. A failure is the next record's, which spools.
   */
  prepare(): void {
    if (this.spooled || this.#opening !== undefined) return;
    this.#opening = this.#catalogue
      .withCatalogue(async () => undefined, { keepOpen: true })
      .then(
        () => undefined,
        (err: unknown) => err,
      );
  }

  /** The prepared open's failure, if it failed; the record then goes to the spool without a second try. */
  async #opened(): Promise<{ err: unknown } | undefined> {
    const opening = this.#opening;
    this.#opening = undefined;
    const err = await opening;
    return err === undefined ? undefined : { err };
  }

  async start(run: RunStart): Promise<void> {
    this.#start = run;
    try {
      const failed = await this.#opened();
      if (failed !== undefined) throw failed.err;
      await this.#catalogue.withCatalogue((q) => recordStart(q, run));
    } catch (err) {
      this.spoolReason = messageOf(err);
      await this.#spool({ start: run, end: null });
    }
  }

  /**
   * After this run's own dump (which must not wait for it): sends the spool's waiting records and closes
   * earlier runs of the definition whose process stopped, re-hashing any whose dump was in place.
   */
  async tidy(): Promise<void> {
    const start = this.#start as RunStart;
    if (this.spooled) return; // the catalogue is not there to tidy into
    try {
      await this.#catalogue.withCatalogue((q) => tidyRuns(q, this.#root, start, this.#log, this.setAside));
    } catch (err) {
      // Left for the next run: this one's own record is already where it belongs.
      this.#log.debug(
        { event: 'tidy_failed', err: messageOf(err) },
        `tidying left for the next run: ${messageOf(err)}`,
      );
    }
  }

  /**
   * Records where a successful dump was copied; undefined when recorded, else why not (the catalogue is
   * gone since the run's end, or the run went to the spool). The copies themselves stay where they are.
   */
  /**
   * Before a good dump's copies start: SUCCEEDED_PARTIAL until they are recorded, so a process killed in
   * between leaves a dump the agent's copy pass finishes, not one that looks copied. Best effort.
   */
  async copiesPending(destinations: readonly string[]): Promise<void> {
    if (this.spooled) return;
    const pending = pendingCopies(destinations);
    await this.#catalogue
      .withCatalogue((q) => setCopyOutcome(q, (this.#start as RunStart).id, pending), { keepOpen: true })
      .catch(() => undefined);
  }

  async recordCopies(copies: readonly DumpCopy[]): Promise<string | undefined> {
    if (this.spooled) return `the run's record waits in the spool (${this.spoolReason})`;
    try {
      await this.#catalogue.withCatalogue(
        async (q) => {
          for (const c of copies) await recordCopy(q, c);
          await setCopyOutcome(q, (this.#start as RunStart).id, missingCopies(copies));
        },
        { keepOpen: true },
      );
      return undefined;
    } catch (err) {
      return messageOf(err);
    }
  }

  /**
   * Once every copy is recorded, a dump only staged in the root (its storage starts with a bucket) has its
   * folder there removed (releaseRoot). True when it was; a failure leaves it to a later copy pass.
   */
  async releaseRoot(
    dumpPath: string,
    storage: readonly StorageDestination[],
    allowed: readonly AllowedDestination[],
  ): Promise<boolean> {
    if (this.spooled || !stagesInRoot(storage)) return false;
    const id = (this.#start as RunStart).id;
    try {
      return await this.#catalogue.withCatalogue(
        (q) => releaseRoot(q, { id, dumpPath }, storage, this.#root, allowed),
        { keepOpen: true },
      );
    } catch (err) {
      this.#log.warn(
        { event: 'root_release_failed', run: id, error: messageOf(err) },
        `the dump's folder in the root directory was not released (a later copy pass tries again): ${messageOf(err)}`,
      );
      return false;
    }
  }

  /**
   * `copiesTo`: the further destinations a good dump is to be copied to. Spooled, it is recorded
   * SUCCEEDED_PARTIAL, so once the spool is replayed the agent's copy pass makes (and records) its copies;
   * the copies this run makes meanwhile cannot be recorded.
   */
  async end(e: RunEnd, copiesTo: readonly string[] = []): Promise<void> {
    const start = this.#start as RunStart;
    if (!this.spooled) {
      try {
        const failed = await this.#opened();
        if (failed !== undefined) throw failed.err;
        // Kept open for the tidy that follows at once.
        await this.#catalogue.withCatalogue((q) => recordEnd(q, start.id, start.startedAt, e), {
          keepOpen: true,
        });
        return;
      } catch (err) {
        this.spoolReason = messageOf(err);
      }
    }
    const pending =
      e.status === 'SUCCEEDED' && copiesTo.length > 0
        ? {
            ...e,
            status: 'SUCCEEDED_PARTIAL' as const,
            error: copiesTo
              .map((d) => `not copied to ${d}: not recorded (the run's record waited in the spool)`)
              .join('; '),
          }
        : e;
    await this.#spool({ start, end: pending });
    this.#log.info(
      { event: 'run_spooled', run: start.id, reason: this.spoolReason },
      `this run's record waits in the spool and is sent by the next run that reaches the catalogue (${this.spoolReason})`,
    );
  }

  async #spool(run: SpooledRun): Promise<void> {
    try {
      await spoolRun(this.#root, run);
    } catch (err) {
      throw new PgbackmanError(
        'IO',
        `run ${run.start.id} could not be recorded: the catalogue (${this.spoolReason}) and the spool (${messageOf(err)}) both failed`,
        { cause: err },
      );
    }
  }
}

/**
 * Sends the spool's waiting records, then closes earlier runs of `run`'s definition whose process stopped
 * (re-hashing any whose dump was in place): after a run, and for every definition when an agent starts.
 */
/** Sends the spool's waiting records under `root`, saying what it sent and what it set aside. */
export async function replayAndReport(
  q: Queryable,
  root: string,
  log: Logger,
  setAside: SetAside[] = [],
): Promise<void> {
  const replay = { sent: 0, setAside };
  try {
    await replaySpool(q, root, replay);
  } finally {
    reportReplay(log, replay);
  }
}

export async function tidyRuns(
  q: Queryable,
  root: string,
  run: RunStart,
  log: Logger,
  setAside: SetAside[] = [],
): Promise<void> {
  await replayAndReport(q, root, log, setAside);
  await closeInterrupted(q, root, run, log);
}

function reportReplay(log: Logger, replay: SpoolReplay): void {
  if (replay.sent > 0)
    log.info(
      { event: 'spool_replayed', records: replay.sent },
      `${replay.sent} record(s) waiting in the spool reached the catalogue`,
    );
  for (const f of replay.setAside)
    log.warn(
      { event: 'spool_set_aside', kind: f.kind, path: f.path, reason: f.reason },
      f.kind === 'unreadable'
        ? `a spooled record could not be read (${f.reason}); set aside as ${f.path}: the run it holds is not in the catalogue`
        : `the catalogue refused a spooled record (${f.reason}); set aside as ${f.path}: the run it holds is not in the catalogue`,
    );
}

async function closeInterrupted(q: Queryable, root: string, run: RunStart, log: Logger): Promise<void> {
  const name = run.definition ?? run.snapshot ?? '';
  const kind = run.definition !== null ? 'BackupDefinition' : 'SnapshotDefinition';
  for (const lost of await findInterrupted(q, run, processAlive))
    await closeLost(q, root, lost, kind, name, log);
}

/**
 * When an agent starts: every run of its server that this host left RUNNING and whose process is gone is
 * closed, with one query for them all (not one per definition).
 */
export async function closeInterruptedOnHost(
  q: Queryable,
  root: string,
  o: { readonly server: string; readonly host: string },
  log: Logger,
): Promise<void> {
  for (const lost of await selectRunningOnHost(q, o.server, o.host)) {
    if (lost.pid !== null && processAlive(lost.pid)) continue;
    const kind = lost.definition !== null ? 'BackupDefinition' : 'SnapshotDefinition';
    const place = { ...lost, startedAt: new Date(Number(lost.started_ms)) };
    if (await closeLost(q, root, place, kind, lost.definition ?? lost.snapshot ?? '', log))
      await copiesStillOwed(q, o.server, lost);
  }
}

/**
 * A recovered dump never had its copies made (its process died between the rename and its record): it is
 * SUCCEEDED_PARTIAL, each further destination 'not tried yet', so the agent's copy pass makes them.
 */
async function copiesStillOwed(
  q: Queryable,
  server: string,
  run: { readonly id: string; readonly definition: string | null; readonly snapshot: string | null },
): Promise<void> {
  const [object] = await listObjects(q, 'BackupServer', { name: server });
  const further = object === undefined ? [] : await furtherDestinationsOf(q, run, object.spec);
  if (further.length > 0) await setCopyOutcome(q, run.id, pendingCopies(further.map((d) => d.name)));
}

async function closeLost(
  q: Queryable,
  root: string,
  lost: InterruptedRun,
  kind: string,
  name: string,
  log: Logger,
): Promise<boolean> {
  let end: RunEnd;
  try {
    end = await recoverRun(root, { ...lost, name });
  } catch {
    return false; // its files cannot be read now: left RUNNING for a later run, never guessed
  }
  await recordEnd(q, lost.id, lost.startedAt, end);
  const of = `${kind}/${name}`;
  if (end.status === 'SUCCEEDED')
    log.info(
      { event: 'run_recovered', run: lost.id },
      `an earlier run of ${of} (${lost.id}) had put its dump in place before its process stopped; hashed and recorded SUCCEEDED`,
    );
  else
    log.info(
      { event: 'run_interrupted', run: lost.id },
      `an earlier run of ${of} (${lost.id}) was left RUNNING by a process that stopped; recorded FAILED, its partial files removed`,
    );
  return end.status === 'SUCCEEDED';
}
