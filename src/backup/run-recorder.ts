import type { Queryable } from '../catalogue/catalogue-db.ts';
import {
  closeInterrupted,
  type InterruptedRun,
  type RunEnd,
  type RunStart,
  recordEnd,
  recordStart,
} from './record-run.ts';
import { replaySpool, spoolRun } from './spool.ts';

/**
 * Records a run in the catalogue; when the catalogue cannot be reached the dump goes on and the record
 * is spooled to disk, to be replayed (exactly once, by run id) at the next contact.
 */
export class RunRecorder {
  #start: RunStart | undefined;
  spooled = false;
  /** Records of earlier runs that were waiting in the spool and reached the catalogue at this start. */
  replayed = 0;
  /** Earlier runs of the same definition left RUNNING by a process that stopped; now recorded FAILED. */
  interrupted: InterruptedRun[] = [];
  readonly #q: Queryable;
  readonly #root: string;
  constructor(q: Queryable, root: string) {
    this.#q = q;
    this.#root = root;
  }
  async start(run: RunStart): Promise<void> {
    this.#start = run;
    try {
      this.replayed = await replaySpool(this.#q, this.#root);
      this.interrupted = await closeInterrupted(this.#q, run);
      await recordStart(this.#q, run);
    } catch {
      this.spooled = true;
      await spoolRun(this.#root, { start: run, end: null, pid: process.pid });
    }
  }
  async end(e: RunEnd): Promise<void> {
    const start = this.#start as RunStart;
    if (!this.spooled) {
      try {
        await recordEnd(this.#q, start.id, start.startedAt, e);
        return;
      } catch {
        this.spooled = true;
      }
    }
    await spoolRun(this.#root, { start, end: e, pid: process.pid });
  }
}
