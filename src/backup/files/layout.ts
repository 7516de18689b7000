import { join, relative, resolve, sep } from 'node:path';
import { PgbackmanError } from '../../errors.ts';

/** One path segment from a manifest name: letters, digits, `.`, `_`, `-` kept; everything else %-encoded. */
export function pathSegment(name: string): string {
  const encoded = [...name]
    .map((c) =>
      /^[\p{L}\p{N}_-]$/u.test(c) || c === '.'
        ? c
        : [...Buffer.from(c, 'utf8')]
            .map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`)
            .join(''),
    )
    .join('');
  // "." and ".." are directories of their own: encode them too.
  return /^\.+$/.test(encoded) ? encoded.replace(/\./g, '%2E') : encoded;
}

/** A backup server's root directory: the manifest's, or the documented default. */
export function rootDirectoryOf(spec: { readonly rootDirectory?: string }): string {
  return spec.rootDirectory ?? '/srv/pgbackman';
}

export interface DumpLayout {
  /** The final directory of this run, named so a person can find it without the catalogue. */
  readonly dir: string;
  /** Where the run is written until it succeeds; never mistaken for a finished dump. */
  readonly partial: string;
  /** The directories between the root and `dir` (node, database), created and checked one at a time. */
  readonly parents: readonly string[];
}

/**
 * `<root>/<node>/<database>/<UTC timestamp>-<code>-<definition>-<run id prefix>/`, guaranteed to stay under
 * root; the id prefix keeps two runs in the same second apart and ties the files to their catalogue row.
 */
export function dumpLayout(
  root: string,
  node: string,
  database: string | undefined,
  code: string,
  definition: string,
  startedAt: Date,
  runId: string,
): DumpLayout {
  const stamp = startedAt
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const base = resolve(root);
  const parents = [pathSegment(node), pathSegment(database ?? '_cluster')];
  const dir = join(base, ...parents, `${stamp}-${code}-${pathSegment(definition)}-${runId.slice(0, 8)}`);
  const rel = relative(base, dir);
  if (rel.startsWith('..') || rel.split(sep).includes('..'))
    throw new PgbackmanError('USAGE', `dump path ${dir} would leave the root ${base}`);
  return { dir, partial: `${dir}.partial`, parents };
}
