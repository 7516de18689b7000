import type { Queryable } from '../../catalogue/catalogue-db.ts';
import { messageOf, PgbackmanError } from '../../errors.ts';
import { processAlive } from '../../system/process-alive.ts';
import { findInterrupted, type RunEnd, type RunStart, recordEnd, recordStart } from './record-run.ts';
import { recoverRun } from './recover-run.ts';
import { replaySpool, type SetAside, type SpooledRun, spoolRun } from './spool.ts';

/**
 * Records a run in the catalogue; when the catalogue cannot be reached (or refuses the record) the dump goes
 * on and the record is spooled to disk, to be replayed (exactly once, by run id) at the next contact.
 */
export class RunRecorder {
  #start: RunStart | undefined;
  /** Why the record went to the spool instead of the catalogue; undefined while it has not. */
  spoolReason: string | undefined;
  /** Records of earlier runs that were waiting in the spool and reached the catalogue at this start. */
  replayed = 0;
  /** Spool files the replay set aside (unreadable, or refused by the catalogue): reported, and counted. */
  readonly setAside: SetAside[] = [];
  /** Earlier runs of this definition whose process stopped: recorded FAILED, their partial files removed. */
  interrupted = 0;
  /** Earlier runs whose process stopped after their dump was in place: hashed and recorded SUCCEEDED. */
  recovered = 0;
  readonly #q: Queryable;
  readonly #root: string;
  constructor(q: Queryable, root: string) {
    this.#q = q;
    this.#root = root;
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
      const replay = { sent: 0, setAside: this.setAside };
      try {
        await replaySpool(this.#q, this.#root, replay);
      } finally {
        this.replayed = replay.sent;
      }
      await this.#closeInterrupted(start);
    } catch {
      // Left for the next run: this one's own record is already where it belongs.
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
      if (end.status === 'SUCCEEDED') this.recovered++;
      else this.interrupted++;
    }
  }
}
