import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseCatalogueLocation } from '../catalogue/catalogue-location.ts';
import { isPgbackmanError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';

/** How long a starting agent waits for a one-shot command (a `run`, an `apply`) to let the embedded catalogue go. */
const WAIT_MS = 60_000;

/**
 * An agent on the embedded catalogue holds it for as long as it runs and serves it on a Unix socket, so
 * every other command (and the agent itself) reaches it as a client; returns how to let it go. A
 * PostgreSQL catalogue needs nothing: undefined.
 */
export async function holdCatalogue(
  location: string,
  log: Logger,
  /** Aborted (a SIGTERM while it waits): it stops waiting and holds nothing. */
  signal?: AbortSignal,
): Promise<{ close(): Promise<void>; socketDir: string } | undefined> {
  const where = parseCatalogueLocation(location);
  if (where.kind !== 'embedded') return undefined;
  const { serveEmbedded } = await import('../catalogue/serve-embedded.ts');
  const until = Date.now() + WAIT_MS;
  for (let pause = 250; ; pause = Math.min(pause * 2, 5_000)) {
    try {
      // It says itself where it serves.
      return await serveEmbedded(resolve(where.dir), 'pgbackman agent', { logger: log });
    } catch (err) {
      if (!isPgbackmanError(err, 'CATALOGUE_IN_USE') || Date.now() + pause > until) throw err;
      log.info({ event: 'catalogue_in_use' }, `${(err as Error).message}; trying again`);
      if (signal?.aborted) return undefined;
      await sleep(pause, undefined, signal === undefined ? {} : { signal }).catch(() => undefined);
      if (signal?.aborted) return undefined;
    }
  }
}
