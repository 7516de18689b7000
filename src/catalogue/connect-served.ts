import type { CatalogueDb } from './catalogue-db.ts';
import { connectPgClient } from './pg-client-catalogue.ts';
import { checkSocketDir, SOCKET_PORT } from './socket-dir.ts';

/**
 * Connects to the embedded catalogue in `dir` through the socket its holder serves in `socketDir`. The
 * CatalogueDb is of kind 'embedded'; its `close()` ends this connection only.
 */
export async function connectServed(
  dir: string,
  socketDir: string,
  applicationName: string,
): Promise<CatalogueDb> {
  checkSocketDir(socketDir);
  return connectPgClient(
    // Explicit, so that PGUSER, PGDATABASE or PGSSLMODE meant for a real PostgreSQL do not apply here.
    {
      host: socketDir,
      port: SOCKET_PORT,
      user: 'postgres',
      database: 'postgres',
      password: '',
      ssl: false,
      application_name: applicationName,
      // Connecting waits its turn behind another client's transaction: longer than the idle guard's 30 s.
      connectionTimeoutMillis: 60_000,
    },
    'embedded',
    dir,
  );
}
