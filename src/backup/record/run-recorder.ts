import type { Queryable } from '../../catalogue/catalogue-db.ts';
import { type CatalogueSession, heldSession, isCatalogueSession } from '../../catalogue/catalogue-session.ts';
import { messageOf, PgbackmanError } from '../../errors.ts';
import { processAlive } from '../../system/process-alive.ts';
import { findInterrupted, type RunEnd, type RunStart, recordEnd, recordStart } from './record-run.ts';
import { recoverRun } from './recover-run.ts';
import { replaySpool, type SpooledRun, spoolRun } from './spool.ts';

/**
 * Records a run in the catalogue; when the catalogue cannot be reached (or refuses the record) the dump goes
 * on and the record is spooled to disk, to be replayed (exactly once, by run id) at the next contact.
 * The catalogue is reached through a session, so the embedded one is held only while a record is written.
 */
export class RunRecorder {
  #start: RunStart | undefined;
  /** Why the record went to the spool instead of the catalogue; undefined while it has not. */
  spoolReason: string | undefined;
  /** Records of earlier runs that were waiting in the spool and reached the catalogue at this start. */
  replayed = 0;
  /** Earlier runs of this definition whose process stopped: recorded FAILED, their partial files removed. */
  interrupted = 0;
  /** Earlier runs whose process stopped after their dump was in place: hashed and recorded SUCCEEDED. */
  recovered = 0;
  readonly #catalogue: CatalogueSession;
  readonly #root: string;
  /** A Queryable is a connection the caller holds and closes. */
  constructor(catalogue: CatalogueSession | Queryable, root: string) {
    this.#catalogue = isCatalogueSession(catalogue) ? catalogue : heldSession(catalogue);
    this.#root = root;
  }

  get spooled(): boolean {
    return this.spoolReason !== undefined;
  }

  async start(run: RunStart): Promise<void> {
    this.#start = run;
    try {
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
      await this.#catalogue.withCatalogue(async (q) => {
        this.replayed = await replaySpool(q, this.#root);
        await this.#closeInterrupted(q, start);
      });
    } catch {
      // Left for the next run: this one's own record is already where it belongs.
    }
  }

  async end(e: RunEnd): Promise<void> {
    const start = this.#start as RunStart;
    if (!this.spooled) {
      try {
        // Kept open for the tidy that follows at once.
        await this.#catalogue.withCatalogue((q) => recordEnd(q, start.id, start.startedAt, e), {
          keepOpen: true,
        });
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

  async #closeInterrupted(q: Queryable, run: RunStart): Promise<void> {
    const name = run.definition ?? run.snapshot ?? '';
    for (const lost of await findInterrupted(q, run, processAlive)) {
      let end: RunEnd;
      try {
        end = await recoverRun(this.#root, { ...lost, name });
      } catch {
        continue; // its files cannot be read now: left RUNNING for a later run, never guessed
      }
      await recordEnd(q, lost.id, lost.startedAt, end);
      if (end.status === 'SUCCEEDED') this.recovered++;
      else this.interrupted++;
    }
  }
}
