import { PgbackmanError } from '../../errors.ts';
import type { EffectiveSettings } from '../../manifest/resolve-settings.ts';

/**
 * Refuses a CLUSTER dump that pg_dumpall would abandon part-way: it passes each database's name to pg_dump
 * on a command line and stops at one holding a newline or carriage return ("shell command argument contains
 * a newline or carriage return"). Said up front, naming the database, instead of after dumping the others.
 * A definition with `--exclude-database` is left to pg_dumpall, which applies its own patterns.
 */
export function checkClusterNames(
  settings: EffectiveSettings,
  node: string,
  newlineDatabases: readonly string[],
): void {
  if (settings.code !== 'CLUSTER' || newlineDatabases.length === 0) return;
  if (settings.extraArgs.some((a) => a.startsWith('--exclude-database'))) return;
  const names = newlineDatabases.map((d) => JSON.stringify(d)).join(', ');
  const one = newlineDatabases.length === 1;
  throw new PgbackmanError(
    'INVALID_INPUT',
    `database ${names} on ${node} ${one ? 'has a newline in its name' : 'have newlines in their names'}, and pg_dumpall refuses to dump such a database (it cannot pass the name on to pg_dump); rename ${one ? 'it' : 'them'} (ALTER DATABASE … RENAME TO …), or leave ${one ? 'it' : 'them'} out with extraArgs: ["--exclude-database=PATTERN"] and dump ${one ? 'it' : 'them'} with a FULL definition`,
  );
}
