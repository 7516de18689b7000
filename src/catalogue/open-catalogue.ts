import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { messageOf, PgbackmanError } from '../errors.ts';
import { classifySqlError } from '../sqlstate.ts';
import type { CatalogueDb } from './catalogue-db.ts';
import { describeLocation, parseCatalogueLocation } from './catalogue-location.ts';

export { redactUrl } from './catalogue-location.ts';

export const DEFAULT_EMBEDDED = '.pgbackman/catalogue';

// Only these make an embedded catalogue where there is none; every other command says where it looked.
const CREATORS = new Set(['apply', 'catalogue migrate', 'agent']);

/** `--catalogue`, then PGBACKMAN_CATALOGUE, then the embedded default in ./.pgbackman/catalogue. */
export function catalogueLocation(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return flag ?? (env.PGBACKMAN_CATALOGUE || DEFAULT_EMBEDDED);
}

export function isPostgresUrl(location: string): boolean {
  return parseCatalogueLocation(location).kind !== 'embedded';
}

/** The location with any password removed: safe to print, and the catalogue's identity for caches. */
export function safeLocation(location: string): string {
  return describeLocation(parseCatalogueLocation(location));
}

/**
 * Opens the catalogue: PostgreSQL at a URL or keyword string, or the embedded one in a directory (through
 * the socket of a process that serves it, if one does). Only `apply`, `catalogue migrate` and the agent
 * create an embedded catalogue that does not exist yet. `timeoutMs` bounds a PostgreSQL catalogue's connect and
 * each statement (by default 30 s and 5 min).
 */
export async function openCatalogue(
  location: string,
  command: string,
  timeoutMs?: number,
): Promise<CatalogueDb> {
  const where = parseCatalogueLocation(location);
  if (where.kind !== 'embedded') {
    const { connectPostgres } = await import('./connect-postgres.ts');
    return connectPostgres(where, `pgbackman ${command}`, timeoutMs);
  }
  const dir = resolve(where.dir);
  if (!CREATORS.has(command) && !existsSync(join(dir, 'PG_VERSION')))
    throw new PgbackmanError(
      'CATALOGUE_NOT_FOUND',
      `no catalogue at ${dir} (the embedded default, or --catalogue/PGBACKMAN_CATALOGUE): create one with \`pgbackman apply\` or \`pgbackman catalogue migrate\` there, or point --catalogue (or PGBACKMAN_CATALOGUE) at your catalogue, e.g. postgres://user@host/pgbackman`,
    );
  const { openEmbedded } = await import('./open-embedded.ts');
  return openEmbedded(dir, `pgbackman ${command}`);
}

/** Runs `fn` with an open catalogue and always closes it. */
export async function withCatalogue<T>(
  location: string,
  command: string,
  fn: (db: CatalogueDb) => Promise<T>,
): Promise<T> {
  const db = await openCatalogue(location, command);
  let result: T;
  try {
    result = await fn(db);
  } catch (err) {
    await db.close().catch(() => undefined);
    // A connection lost half-way is the catalogue going away, not a bug: said as such, with the command.
    if (!(err instanceof PgbackmanError) && classifySqlError(err) === 'lost')
      throw new PgbackmanError(
        'CATALOGUE_UNREACHABLE',
        `lost the catalogue ${safeLocation(location)} during ${command}: ${messageOf(err)}; run it again once the catalogue is back`,
        { cause: err },
      );
    throw err;
  }
  await db.close();
  return result;
}
