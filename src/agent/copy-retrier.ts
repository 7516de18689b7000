import type { Queryable } from '../catalogue/catalogue-db.ts';
import type { DumpCopy } from '../catalogue/dump-copies.ts';
import { messageOf } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import type { AllowedDestination } from '../storage/allowed-destinations.ts';
import { type RetryReport, retryCopies } from '../storage/retry-copies.ts';
import type { CatalogueLink } from './catalogue-link.ts';

export interface CopyRetrierOptions {
  readonly server: string;
  readonly link: CatalogueLink;
  readonly log: Logger;
  readonly allowed: readonly AllowedDestination[];
  readonly secretsDir: string;
  /** Each copy the pass made or failed to make, for the metrics. */
  readonly report?: (copies: readonly DumpCopy[]) => void;
}

/**
 * The agent's second chance for copies: its server's SUCCEEDED_PARTIAL dumps copied again from the root
 * directory to the destinations they lack, on an interval. One pass at a time; one asked
 * for meanwhile runs after it. A destination that is still down costs one failed try per dump per pass.
 */
export class CopyRetrier {
  readonly #o: CopyRetrierOptions;
  #running: Promise<void> | undefined;
  #wanted = false;
  readonly #stop = new AbortController();

  constructor(o: CopyRetrierOptions) {
    this.#o = o;
  }

  request(): void {
    if (this.#stop.signal.aborted) return;
    this.#wanted = true;
    if (this.#running !== undefined) return;
    this.#running = this.#loop().finally(() => {
      this.#running = undefined;
    });
  }

  /** Stops between two files of a copy (the one under way is given up, and tried again next time). */
  async stop(): Promise<void> {
    this.#stop.abort('the agent stops');
    await this.#running;
  }

  async #loop(): Promise<void> {
    while (this.#wanted && !this.#stop.signal.aborted) {
      this.#wanted = false;
      await this.#pass();
    }
  }

  async #pass(): Promise<void> {
    const { server, link, log } = this.#o;
    const q: Queryable = {
      query: (sql, params) => link.use((db) => db.query(sql, params)),
      exec: (sql) => link.use((db) => db.exec(sql)),
    };
    let report: RetryReport;
    try {
      report = await retryCopies(q, server, {
        allowed: this.#o.allowed,
        env: process.env,
        secretsDir: this.#o.secretsDir,
        signal: this.#stop.signal,
        ...(this.#o.report === undefined ? {} : { onCopies: this.#o.report }),
      });
    } catch (err) {
      log.warn({ event: 'copy_retry_failed', err: messageOf(err) }, `copies not retried: ${messageOf(err)}`);
      return;
    }
    if (
      report.tried > 0 ||
      report.completed > 0 ||
      report.removed > 0 ||
      (report.debris ?? 0) > 0 ||
      (report.released ?? 0) > 0
    )
      log.info(
        { event: 'copies_retried', ...report },
        `copies retried: ${report.tried - report.failed} of ${report.tried} made; ${report.completed} dump(s) SUCCEEDED again; ${report.removed} copies of deleted dumps removed${report.debris === undefined ? '' : `; ${report.debris} temporary file(s) of interrupted copies removed`}${report.released === undefined ? '' : `; ${report.released} staged dump(s) removed from the root directory, every destination holding them`}`,
      );
  }
}
