import type { CatalogueDb, Queryable } from '../catalogue/catalogue-db.ts';
import type { CatalogueSession } from '../catalogue/catalogue-session.ts';
import { openCatalogue } from '../catalogue/open-catalogue.ts';
import { unreachableReason } from '../catalogue/unreachable.ts';
import { PgbackmanError } from '../errors.ts';

/**
 * How long a statement of the agent's link may wait for an answer (connecting: 30 s at most) before the
 * catalogue counts as unreachable and the connection is dropped: /readyz and pgbackman_catalogue_up then say
 * so, instead of after pg's 5 minutes. No statement of the agent's takes this long on a catalogue that answers.
 */
export const LINK_TIMEOUT_MS = 60_000;

/**
 * The agent's own connection to the catalogue: opened on first use, dropped when it fails in a way that
 * means the catalogue went away (the next use reconnects), and used by one caller at a time, so the
 * heartbeat never lands inside an apply's transaction.
 */
export class CatalogueLink {
  readonly #location: string;
  readonly #timeoutMs: number;
  #db: CatalogueDb | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  /** When the use under way started; undefined while none is. */
  #busySince: number | undefined;
  /** Why the link was given up (the agent stopping while the catalogue hung): every later use fails with it. */
  #givenUp: string | undefined;
  /** Whether the last use reached the catalogue (for /readyz and the metrics). */
  up = false;

  constructor(location: string, timeoutMs = LINK_TIMEOUT_MS) {
    this.#location = location;
    this.#timeoutMs = timeoutMs;
  }

  use<T>(fn: (db: CatalogueDb) => Promise<T>): Promise<T> {
    const turn = this.#queue.then(() => this.#run(fn));
    this.#queue = turn.catch(() => undefined);
    return turn;
  }

  async #run<T>(fn: (db: CatalogueDb) => Promise<T>): Promise<T> {
    if (this.#givenUp !== undefined) throw new PgbackmanError('CATALOGUE_UNREACHABLE', this.#givenUp);
    this.#busySince = Date.now();
    try {
      this.#db ??= await openCatalogue(this.#location, 'agent', this.#timeoutMs);
      const result = await fn(this.#db);
      this.up = true;
      return result;
    } catch (err) {
      if (unreachableReason(err) !== undefined) {
        this.up = false;
        const db = this.#db;
        this.#db = undefined;
        await db?.close().catch(() => undefined);
      }
      throw err;
    } finally {
      this.#busySince = undefined;
    }
  }

  /**
   * When the use under way has waited more than `ms`, the catalogue has stopped answering: its connection is
   * dropped (that use fails at once) and every later use fails too. For the shutdown only, which must not
   * wait out each statement's bound in turn. Returns whether it gave up now.
   */
  giveUpIfHung(ms: number, reason: string): boolean {
    if (this.#givenUp !== undefined) return false;
    if (this.#busySince === undefined || Date.now() - this.#busySince < ms) return false;
    this.#givenUp = reason;
    this.up = false;
    this.#db?.destroy?.();
    return true;
  }

  async close(): Promise<void> {
    await this.#queue;
    const db = this.#db;
    this.#db = undefined;
    await db?.close();
  }
}

/**
 * How long a run's record may take to reach a PostgreSQL catalogue (connect, or one statement) before it goes
 * to the spool instead: a catalogue that hangs (frozen, cut off without a reset) must not hold a due dump
 * back, or make the next one due be skipped as overlapping.
 */
export const RUN_RECORD_TIMEOUT_MS = 10_000;

/**
 * A run's way to the catalogue: a connection of its own for each record, so a dump never waits behind the
 * agent's reconcile and a catalogue that went away and came back is simply reached again.
 */
export function runSessionFor(location: string, timeoutMs = RUN_RECORD_TIMEOUT_MS): CatalogueSession {
  let open: CatalogueDb | undefined;
  const closeOpen = async () => {
    const db = open;
    open = undefined;
    await db?.close().catch(() => undefined);
  };
  return {
    async withCatalogue<T>(fn: (q: Queryable) => Promise<T>, options: { keepOpen?: boolean } = {}) {
      open ??= await openCatalogue(location, 'agent run', timeoutMs);
      try {
        const result = await fn(open);
        if (options.keepOpen !== true) await closeOpen();
        return result;
      } catch (err) {
        await closeOpen();
        throw err;
      }
    },
    close: closeOpen,
  };
}
