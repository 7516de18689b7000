import type { PGlite } from '@electric-sql/pglite';
import type { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import type { Logger } from '../observability/logger.ts';

// What the guard reads of pglite-socket 0.2's private state; checked at start, so an upgrade that changes
// it turns the guard off with a warning instead of breaking the server.
interface Handler {
  readonly handlerId: number;
  readonly lastActivityTime: number;
  detach(close?: boolean): Promise<unknown>;
}
interface Internals {
  readonly handlers: Set<Handler>;
  readonly queryQueue: {
    readonly lastHandlerId: number | null;
    getQueueLength(): number;
    clearTransactionIfNeeded(handlerId: number): Promise<void>;
  };
}

/**
 * pglite-socket runs one transaction at a time: while a client sits inside its transaction (a prompt, a
 * hung process) every other client waits, the holder too. When others have waited and that client has sent
 * nothing for `idleMs`, its transaction is rolled back and its connection closed, as PostgreSQL's
 * idle_in_transaction_session_timeout would; a transaction whose client is gone is rolled back at once.
 * Returns the function that stops the guard.
 */
export function guardIdleTransactions(
  server: PGLiteSocketServer,
  db: PGlite,
  idleMs: number,
  logger: Logger,
): () => void {
  const inner = server as unknown as Partial<Internals>;
  const { handlers, queryQueue } = inner;
  if (!(handlers instanceof Set) || typeof queryQueue?.clearTransactionIfNeeded !== 'function') {
    logger.warn(
      'this pglite-socket is not the one pgbackman knows: a client idle in a transaction is not cut off',
    );
    return () => undefined;
  }
  let seen: { handler: number; activity: number; since: number } | undefined;
  const check = async () => {
    const id = queryQueue.lastHandlerId;
    if (!db.isInTransaction() || id === null || queryQueue.getQueueLength() === 0) {
      seen = undefined;
      return;
    }
    const holder = [...handlers].find((h) => h.handlerId === id);
    if (holder === undefined) {
      logger.warn('rolled back the transaction of a client that is gone');
      await queryQueue.clearTransactionIfNeeded(id);
      return;
    }
    // Idle as this guard saw it: a long statement blocks the event loop, so it never counts as idle.
    if (seen?.handler !== id || seen.activity !== holder.lastActivityTime) {
      seen = { handler: id, activity: holder.lastActivityTime, since: Date.now() };
      return;
    }
    if (Date.now() - seen.since < idleMs) return;
    logger.warn(
      { idleMs, waiting: queryQueue.getQueueLength() },
      'a client idle inside its transaction kept others waiting: rolled back and disconnected',
    );
    seen = undefined;
    await holder.detach(true);
  };
  const timer = setInterval(
    () => {
      check().catch((err: unknown) => logger.warn({ err }, 'the idle-transaction guard failed'));
    },
    Math.max(50, Math.min(1_000, idleMs / 4)),
  );
  timer.unref();
  return () => clearInterval(timer);
}
