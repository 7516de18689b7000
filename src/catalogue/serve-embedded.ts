import { resolve } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { PgbackmanError } from '../errors.ts';
import { type Logger, silentLogger } from '../observability/logger.ts';
import type { CatalogueDb } from './catalogue-db.ts';
import { openPglite, restrictTree } from './connect-embedded.ts';
import { connectServed } from './connect-served.ts';
import { acquireEmbeddedLock, embeddedLockFile, embeddedSocketDir } from './embedded-lock.ts';
import { guardIdleTransactions } from './idle-transaction-guard.ts';
import { makeSocketDir, removeSocketDir, socketFile } from './socket-dir.ts';

// sun_path holds 108 bytes on Linux, the last one a NUL.
const MAX_SOCKET_PATH = 107;
// The one PGlite session is shared by all: clients take turns, one transaction at a time.
const MAX_CONNECTIONS = 64;
// How long a client idle inside its transaction may keep the others waiting.
export const IDLE_IN_TRANSACTION_MS = 30_000;

export interface ServeOptions {
  readonly logger?: Logger;
  /** A client idle in a transaction while others wait is cut off after this long (IDLE_IN_TRANSACTION_MS). */
  readonly idleInTransactionMs?: number;
}

/** The embedded catalogue held by this process and served to every process, this one included. */
export interface ServedCatalogue {
  /** The private directory of the socket (`<dir>.sock`), also named in the lock file. */
  readonly socketDir: string;
  /** A new connection through the socket: the only way this process may use the catalogue. */
  connect(applicationName: string): Promise<CatalogueDb>;
  /** Stops serving, closes the catalogue and releases it; safe to call twice. */
  close(): Promise<void>;
}

/**
 * Takes the embedded catalogue in `dir` (creating it on first use) and serves it on a Unix socket in
 * `<dir>.sock/`, so that other commands work while a long-lived process (the agent) holds it. The holder
 * queries it through the socket too: an in-process query would run inside any transaction a client has open.
 */
export async function serveEmbedded(
  dir: string,
  command: string,
  options: ServeOptions = {},
): Promise<ServedCatalogue> {
  const logger = options.logger ?? silentLogger;
  const path = resolve(dir);
  const socketDir = embeddedSocketDir(path);
  const socket = socketFile(socketDir);
  if (Buffer.byteLength(socket) > MAX_SOCKET_PATH)
    throw new PgbackmanError(
      'INVALID_INPUT',
      `cannot serve the embedded catalogue ${path}: its socket ${socket} is ${Buffer.byteLength(socket)} bytes, longer than the ${MAX_SOCKET_PATH} a Unix socket path may have; move the catalogue to a shorter path`,
    );
  const release = acquireEmbeddedLock(embeddedLockFile(path), command, socketDir);
  let made = false;
  let db: PGlite | undefined;
  try {
    makeSocketDir(socketDir);
    made = true;
    db = await openPglite(path);
    const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
    const server = new PGLiteSocketServer({ db, path: socket, maxConnections: MAX_CONNECTIONS });
    await server.start();
    const unguard = guardIdleTransactions(
      server,
      db,
      options.idleInTransactionMs ?? IDLE_IN_TRANSACTION_MS,
      logger,
    );
    logger.info(
      { event: 'catalogue_served', catalogue: path, socket },
      `serving the embedded catalogue ${path} to other commands on ${socket}`,
    );
    const pglite = db;
    let closing: Promise<void> | undefined;
    const stop = async () => {
      try {
        unguard();
        await server.stop();
        // A client cut off inside its transaction: what it did not commit is not kept.
        if (pglite.isInTransaction()) await pglite.exec('rollback').catch(() => undefined);
        await pglite.close();
        restrictTree(path);
        logger.info({ catalogue: path }, 'stopped serving the embedded catalogue');
      } finally {
        removeSocketDir(socketDir);
        release();
      }
    };
    return {
      socketDir,
      connect: (applicationName) => connectServed(path, socketDir, applicationName),
      close: () => {
        closing ??= stop();
        return closing;
      },
    };
  } catch (err) {
    await db?.close().catch(() => undefined);
    if (made) removeSocketDir(socketDir);
    release();
    throw err;
  }
}
