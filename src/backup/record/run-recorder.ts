import type { Queryable } from '../../catalogue/catalogue-db.ts';
import { messageOf, PgbackmanError } from '../../errors.ts';
import type { Logger } from '../../observability/logger.ts';
import { processAlive } from '../../system/process-alive.ts';
import { findInterrupted, type RunEnd, type RunStart, recordEnd, recordStart } from './record-run.ts';
import { recoverRun } from './recover-run.ts';
import { replaySpool, type SpooledRun, spoolRun } from './spool.ts';

/**
 * Records a run in the catalogue; when the catalogue cannot be reached (or refuses the record) the dump goes
 * on and the record is spooled to disk, to be replayed (exactly once, by run id) at the next contact.
 */
export class RunRecorder {
  #start: RunStart | undefined;
  /** Why the record went to the spool instead of the catalogue; undefined while it has not. */
  spoolReason: string | undefined;
  readonly #q: Queryable;
  readonly #root: string;
  readonly #log: Logger;
  constructor(q: Queryable, root: string, log: Logger) {
    this.#q = q;
    this.#root = root;
    this.#log = log;
  }

  get spooled(): boolean {
    return this.spoolReason !== undefined;
  }

  async start(run: RunStart): Promise<void> {
    this.#start = run;
    try {
      await recordStart(this.#q, run);
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
      const replayed = await replaySpool(this.#q, this.#root);
      if (replayed > 0)
        this.#log.info(
          { event: 'spool_replayed', records: replayed },
          `${replayed} record(s) waiting in the spool reached the catalogue`,
        );
      await this.#closeInterrupted(start);
    } catch (err) {
      // Left for the next run: this one's own record is already where it belongs.
      this.#log.debug(
        { event: 'tidy_failed', err: messageOf(err) },
        `tidying left for the next run: ${messageOf(err)}`,
      );
    }
  }

  async end(e: RunEnd): Promise<void> {
    const start = this.#start as RunStart;
    if (!this.spooled) {
      try {
        await recordEnd(this.#q, start.id, start.startedAt, e);
        return;
      } catch (err) {
        this.spoolReason = messageOf(err);
      }
    }
    await this.#spool({ start, end: e });
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

  async #closeInterrupted(run: RunStart): Promise<void> {
    const name = run.definition ?? run.snapshot ?? '';
    for (const lost of await findInterrupted(this.#q, run, processAlive)) {
      let end: RunEnd;
      try {
        end = await recoverRun(this.#root, { ...lost, name });
      } catch {
        continue; // its files cannot be read now: left RUNNING for a later run, never guessed
      }
      await recordEnd(this.#q, lost.id, lost.startedAt, end);
      const of = `${run.definition !== null ? 'BackupDefinition' : 'SnapshotDefinition'}/${name}`;
      if (end.status === 'SUCCEEDED')
        this.#log.info(
          { event: 'run_recovered', run: lost.id },
          `an earlier run of ${of} (${lost.id}) had put its dump in place before its process stopped; hashed and recorded SUCCEEDED`,
        );
      else
        this.#log.info(
          { event: 'run_interrupted', run: lost.id },
          `an earlier run of ${of} (${lost.id}) was left RUNNING by a process that stopped; recorded FAILED, its partial files removed`,
        );
    }
  }
}
