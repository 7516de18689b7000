import { setTimeout as sleep } from 'node:timers/promises';
import { PgbackmanError } from '../errors.ts';
import { processAlive } from '../system/process-alive.ts';
import type { CatalogueDb } from './catalogue-db.ts';
import { connectServed } from './connect-served.ts';
import { embeddedLockFile, type Holder, readHolder } from './embedded-lock.ts';

// How long to wait for a live holder's socket to answer: it announces the socket before it has opened PGlite.
const SOCKET_WAIT_MS = 10_000;

/**
 * Opens the embedded catalogue in `dir`: through its holder's socket when a live process serves it, or
 * the directory itself otherwise (which fails with CATALOGUE_IN_USE while a holder that does not serve
 * has it). The directory is never opened twice: only the lock's taker opens it.
 */
export async function openEmbedded(dir: string, command: string): Promise<CatalogueDb> {
  const until = Date.now() + SOCKET_WAIT_MS;
  for (let pause = 50; ; pause = Math.min(pause * 2, 500)) {
    const holder = readHolder(embeddedLockFile(dir));
    if (holder?.socket === undefined || !processAlive(holder.pid)) {
      const { connectEmbedded } = await import('./connect-embedded.ts');
      return connectEmbedded(dir, command);
    }
    try {
      return await connectServed(dir, holder.socket, command);
    } catch (err) {
      if (!notListening(err)) throw err;
      if (Date.now() + pause > until) throw notAnswering(dir, holder, err);
      await sleep(pause);
    }
  }
}

/** The holder has not started listening yet, or has just stopped: worth another look at the lock. */
function notListening(err: unknown): boolean {
  const code = (err instanceof Error ? (err.cause as NodeJS.ErrnoException | undefined) : undefined)?.code;
  return code === 'ENOENT' || code === 'ECONNREFUSED';
}

function notAnswering(dir: string, holder: Holder, err: unknown): PgbackmanError {
  return new PgbackmanError(
    'CATALOGUE_IN_USE',
    `the embedded catalogue ${dir} is held by pid ${holder.pid} (${holder.command}) since ${holder.since}, which serves it on ${holder.socket}, but nothing answers there (${err instanceof Error ? err.message : String(err)}); wait for it to start, or stop it`,
    { cause: err },
  );
}
