import { setTimeout as sleep } from 'node:timers/promises';
import { isPgbackmanError } from '../errors.ts';
import type { CatalogueDb, Queryable } from './catalogue-db.ts';
import { openCatalogue } from './open-catalogue.ts';

/**
 * A way to reach the catalogue for each use, instead of one connection held for a whole run: the embedded
 * catalogue is single-process, so a run holds it only while it reads or writes.
 */
export interface CatalogueSession {
  /**
   * Runs `fn` with the catalogue. `keepOpen`: when `fn` succeeds, the catalogue stays open for the next
   * call, which closes it (the end record and the tidy after it share one open).
   */
  withCatalogue<T>(fn: (q: Queryable) => Promise<T>, options?: { keepOpen?: boolean }): Promise<T>;
  /** Closes whatever is still open; the session is not used after. */
  close(): Promise<void>;
}

export function isCatalogueSession(x: Queryable | CatalogueSession): x is CatalogueSession {
  return typeof (x as CatalogueSession).withCatalogue === 'function';
}

/** A connection the caller holds (and closes), or the offline catalogue: every use goes to it. */
export function heldSession(
  q: Queryable,
  close: () => Promise<void> = async () => undefined,
): CatalogueSession {
  return {
    withCatalogue: (fn) => fn(q),
    close,
  };
}

/** How long a run waits for another process's hold on the embedded catalogue: its holder is a one-shot command. */
export const IN_USE_WAIT_MS = 5_000;

/**
 * Opens the catalogue; while the embedded one is held by another process, tries again for up to `waitMs`
 * (then fails with CATALOGUE_IN_USE, as at once without waiting).
 */
export async function openWaiting(
  location: string,
  command: string,
  waitMs = IN_USE_WAIT_MS,
): Promise<CatalogueDb> {
  const until = Date.now() + waitMs;
  for (let pause = 50; ; pause = Math.min(pause * 2, 500)) {
    try {
      return await openCatalogue(location, command);
    } catch (err) {
      if (!isPgbackmanError(err, 'CATALOGUE_IN_USE') || Date.now() + pause > until) throw err;
      await sleep(pause);
    }
  }
}

/**
 * The session of a run that opened `db` at `location`: a PostgreSQL connection is kept (it costs the
 * server little and other processes nothing); the embedded catalogue is closed after each use (which
 * also flushes it to disk) and opened again, waiting for another holder, at the next.
 */
export function runSession(db: CatalogueDb, location: string, command: string): CatalogueSession {
  if (db.kind === 'postgres') return heldSession(db, () => db.close());
  let open: CatalogueDb | undefined = db;
  const closeOpen = async () => {
    const held = open;
    open = undefined;
    await held?.close();
  };
  return {
    async withCatalogue<T>(fn: (q: Queryable) => Promise<T>, options: { keepOpen?: boolean } = {}) {
      open ??= await openWaiting(location, command);
      let result: T;
      try {
        result = await fn(open);
      } catch (err) {
        await closeOpen().catch(() => undefined); // the first failure is the one to report
        throw err;
      }
      if (options.keepOpen !== true) await closeOpen();
      return result;
    },
    close: closeOpen,
  };
}
