import type { CatalogueDb } from './catalogue-db.ts';

export const DEFAULT_EMBEDDED = '.pgbackman/catalogue';

/** `--catalogue`, then PGBACKMAN_CATALOGUE, then the embedded default in ./.pgbackman/catalogue. */
export function catalogueLocation(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return flag ?? (env.PGBACKMAN_CATALOGUE || DEFAULT_EMBEDDED);
}

export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//.test(location);
}

/** The location with any password removed: safe to print, and the catalogue's identity for caches. */
export function safeLocation(location: string): string {
  return isPostgresUrl(location) ? redactUrl(location) : location;
}

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/:[^:@/]*@/, ':***@');
  }
}

/** Opens the catalogue at a postgres:// URL, or the embedded one in a directory. */
export async function openCatalogue(location: string, command: string): Promise<CatalogueDb> {
  if (isPostgresUrl(location)) {
    const { connectPostgres } = await import('./connect-postgres.ts');
    return connectPostgres(location, `pgbackman ${command}`);
  }
  const { connectEmbedded } = await import('./connect-embedded.ts');
  return connectEmbedded(location, `pgbackman ${command}`);
}

/** Runs `fn` with an open catalogue and always closes it. */
export async function withCatalogue<T>(
  location: string,
  command: string,
  fn: (db: CatalogueDb) => Promise<T>,
): Promise<T> {
  const db = await openCatalogue(location, command);
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}
