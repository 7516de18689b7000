import type { SpecOf } from '../manifest/kinds.ts';

export type DatabaseSelector = NonNullable<SpecOf<'BackupPolicy'>['databases']>;

/** Left out of every policy unless its include names them literally. */
export const SYSTEM_DATABASES: ReadonlySet<string> = new Set(['template0', 'template1', 'postgres']);

const compiled = new Map<string, RegExp>();

/** Whether `name` matches `pattern`: '*' any run of characters, '?' one character, the rest itself (case matters). */
export function matchesPattern(pattern: string, name: string): boolean {
  let re = compiled.get(pattern);
  if (re === undefined) {
    const body = [...pattern]
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')))
      .join('');
    re = new RegExp(`^${body}$`, 'su');
    compiled.set(pattern, re);
  }
  return re.test(name);
}

/**
 * Whether a policy's `databases` selects this database: some include matches and no exclude does; the
 * system databases only when an include is their very name.
 */
export function selectsDatabase(selector: DatabaseSelector | undefined, name: string): boolean {
  const include = selector?.include ?? ['*'];
  const exclude = selector?.exclude ?? [];
  const included = SYSTEM_DATABASES.has(name)
    ? include.includes(name)
    : include.some((p) => matchesPattern(p, name));
  return included && !exclude.some((p) => matchesPattern(p, name));
}
