import type { Queryable } from '../catalogue/catalogue-db.ts';
import { findInterrupted, type RunEnd, type RunStart, recordEnd, recordStart } from './record-run.ts';
import { recoverRun } from './recover-run.ts';
import { processAlive } from './run-lock.ts';
import { replaySpool, spoolRun } from './spool.ts';

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
      this.replayed = await replaySpool(this.#q, this.#root);
      await this.#closeInterrupted(run);
      await recordStart(this.#q, run);
    } catch (err) {
      this.spoolReason = reasonOf(err);
      await spoolRun(this.#root, { start: run, end: null });
    }
  }

  async end(e: RunEnd): Promise<void> {
    const start = this.#start as RunStart;
    if (!this.spooled) {
      try {
        await recordEnd(this.#q, start.id, start.startedAt, e);
        return;
      } catch (err) {
        this.spoolReason = reasonOf(err);
      }
    }
    await spoolRun(this.#root, { start, end: e });
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

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
