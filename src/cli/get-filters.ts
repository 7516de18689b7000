import { PgbackmanError } from '../errors.ts';

/** The `get` flags that narrow what is listed; --output and --secrets-dir apply to every resource. */
export const GET_FILTERS = [
  'server',
  'node',
  'database',
  'status',
  'all',
  'verify',
  'since',
  'limit',
  'uncovered',
  'failing',
  'neverSucceeded',
] as const;
export type GetFilter = (typeof GET_FILTERS)[number];

/** Which filters each resource has: one it lacks would otherwise list nothing, or everything, silently. */
const ACCEPTS: Readonly<Record<string, readonly GetFilter[]>> = {
  servers: ['server'],
  nodes: ['node'],
  definitions: ['server', 'node', 'database', 'failing', 'neverSucceeded'],
  snapshots: ['server', 'node', 'database'],
  restoredefinitions: ['server', 'node'],
  policies: ['server'],
  backups: ['server', 'node', 'database', 'status', 'all', 'verify', 'since', 'limit'],
  restores: ['node', 'database', 'status', 'limit'],
  agents: ['server'],
  databases: ['node', 'database', 'uncovered'],
};

const flagName = (f: GetFilter) => `--${f.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** The resource's canonical (plural) name, or undefined for one `get` does not know. */
export function canonicalResource(resource: string): string | undefined {
  return resource in ACCEPTS ? resource : `${resource}s` in ACCEPTS ? `${resource}s` : undefined;
}

/**
 * Refuses a filter the resource does not have (`get servers --node pg1`), naming the ones it has. A flag
 * left at its default (false) is not given.
 */
export function checkGetFilters(resource: string, flags: Partial<Record<GetFilter, unknown>>): void {
  const canonical = canonicalResource(resource);
  if (canonical === undefined) return; // the caller reports the unknown resource
  const accepted = ACCEPTS[canonical] ?? [];
  const given = GET_FILTERS.filter((f) => flags[f] !== undefined && flags[f] !== false);
  const refused = given.filter((f) => !accepted.includes(f));
  if (refused.length === 0) return;
  const takes = accepted.length === 0 ? 'it takes none' : `it takes ${accepted.map(flagName).join(', ')}`;
  throw new PgbackmanError(
    'USAGE',
    `get ${canonical} has no ${refused.map(flagName).join(' or ')} filter (${takes})`,
  );
}
