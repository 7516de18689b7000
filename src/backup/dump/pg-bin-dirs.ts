import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PgbackmanError } from '../../errors.ts';

/** PostgreSQL client directories by major version: the server's configuration first, then the distro's. */
export function discoverPgBinDirs(
  configured: Readonly<Record<string, string>> = {},
  root = '/usr/lib/postgresql',
): Map<number, string> {
  const found = new Map<number, string>();
  if (existsSync(root)) {
    for (const d of readdirSync(root)) {
      if (/^\d+$/.test(d) && existsSync(join(root, d, 'bin', 'pg_dump')))
        found.set(Number(d), join(root, d, 'bin'));
    }
  }
  for (const [major, dir] of Object.entries(configured)) found.set(Number(major), dir);
  return found;
}

/**
 * The pg_dump to use for a server of `serverMajor`: the same major when there is one, else the oldest
 * newer one; never an older pg_dump, which would refuse the server (or worse, dump it wrongly).
 */
export function choosePgBinDir(
  dirs: ReadonlyMap<number, string>,
  serverMajor: number,
  wanted?: number,
): { major: number; dir: string } {
  const majors = [...dirs.keys()].sort((a, b) => a - b);
  const pick = (m: number | undefined) =>
    m === undefined ? undefined : { major: m, dir: dirs.get(m) as string };
  if (wanted !== undefined) {
    if (wanted < serverMajor)
      throw new PgbackmanError(
        'USAGE',
        `pgDumpVersion ${wanted} is older than the node's PostgreSQL ${serverMajor}; pg_dump must be at least the server's version`,
      );
    const hit = pick(majors.find((m) => m === wanted));
    if (hit === undefined)
      throw new PgbackmanError(
        'NOT_FOUND',
        `pg_dump ${wanted} is not installed on this backup server (have: ${majors.join(', ') || 'none'})`,
      );
    return hit;
  }
  const hit = pick(majors.find((m) => m === serverMajor) ?? majors.find((m) => m > serverMajor));
  if (hit === undefined) {
    throw new PgbackmanError(
      'NOT_FOUND',
      `no pg_dump for PostgreSQL ${serverMajor} or newer on this backup server (have: ${majors.join(', ') || 'none'}); install the PostgreSQL ${serverMajor} client or set spec.pgBinDirectories`,
    );
  }
  return hit;
}
