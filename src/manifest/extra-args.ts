import { didYouMean } from './suggest.ts';

/**
 * The pg_dump and pg_restore options a manifest may add. Everything else (connection, output file, format,
 * jobs, what to dump) is pgbackman's to set, so a manifest cannot redirect or weaken a dump.
 * 'flag': an option without a value; 'value': it needs `--option=value`.
 */
type Allowed = Readonly<Record<string, 'flag' | 'value'>>;

const SHARED: Allowed = {
  '--no-owner': 'flag',
  '--no-privileges': 'flag',
  '--no-acl': 'flag',
  '--no-comments': 'flag',
  '--no-publications': 'flag',
  '--no-subscriptions': 'flag',
  '--no-security-labels': 'flag',
  '--no-tablespaces': 'flag',
  '--disable-triggers': 'flag',
  '--enable-row-security': 'flag',
  '--use-set-session-authorization': 'flag',
  '--strict-names': 'flag',
  '--schema': 'value',
  '--exclude-schema': 'value',
  '--table': 'value',
  '--role': 'value',
};

export const PG_DUMP_OPTIONS: Allowed = {
  ...SHARED,
  '--exclude-table': 'value',
  '--exclude-table-data': 'value',
  '--exclude-table-and-children': 'value',
  '--exclude-table-data-and-children': 'value',
  '--table-and-children': 'value',
  '--extension': 'value',
  '--exclude-extension': 'value',
  '--no-unlogged-table-data': 'flag',
  '--no-large-objects': 'flag',
  '--no-blobs': 'flag',
  '--no-toast-compression': 'flag',
  '--quote-all-identifiers': 'flag',
  '--serializable-deferrable': 'flag',
  '--load-via-partition-root': 'flag',
  '--lock-wait-timeout': 'value',
  '--inserts': 'flag',
  '--column-inserts': 'flag',
  '--rows-per-insert': 'value',
  '--on-conflict-do-nothing': 'flag',
  '--disable-dollar-quoting': 'flag',
};

export const PG_DUMPALL_OPTIONS: Allowed = {
  '--no-owner': 'flag',
  '--no-privileges': 'flag',
  '--no-acl': 'flag',
  '--no-comments': 'flag',
  '--no-publications': 'flag',
  '--no-subscriptions': 'flag',
  '--no-security-labels': 'flag',
  '--no-tablespaces': 'flag',
  '--no-role-passwords': 'flag',
  '--no-unlogged-table-data': 'flag',
  '--disable-triggers': 'flag',
  '--use-set-session-authorization': 'flag',
  '--quote-all-identifiers': 'flag',
  '--load-via-partition-root': 'flag',
  '--exclude-database': 'value',
  '--lock-wait-timeout': 'value',
  '--role': 'value',
};

export const PG_RESTORE_OPTIONS: Allowed = {
  ...SHARED,
  '--exit-on-error': 'flag',
  '--single-transaction': 'flag',
  '--no-data-for-failed-tables': 'flag',
  '--function': 'value',
  '--index': 'value',
  '--trigger': 'value',
  '--superuser': 'value',
};

/** Options pgbackman sets itself, and the manifest field that controls each instead. */
const RESERVED: Readonly<Record<string, string>> = {
  '--file': 'pgbackman chooses where the dump is written',
  '--format': 'use spec.format',
  '--jobs': 'use spec.jobs',
  '--compress': 'use spec.compression',
  '--schema-only': 'use code: SCHEMA',
  '--data-only': 'use code: DATA',
  '--host': "the connection comes from the PgSQLNode's spec",
  '--port': "the connection comes from the PgSQLNode's spec",
  '--username': "the connection comes from the PgSQLNode's spec",
  '--dbname': 'use spec.database',
  '--password': 'passwords come from passwordFrom or .pgpass, never from arguments',
  '--no-password': 'pgbackman never prompts for a password',
  '--no-sync': 'pgbackman syncs every dump to disk before it counts',
  '--clean': "use the restore's existing: field",
  '--create': 'pgbackman creates the target database itself',
};

// Never needed by a pg_dump pattern or value, and the classic ways into a shell or another file.
const UNSAFE_VALUE = /[`$;|&<>'\\\u0000-\u001f\u007f]/;

const cache = new Map<string, string | undefined>();

/** Why an extra argument is refused, or undefined when it is allowed (cached: repositories repeat them). */
export function checkExtraArg(
  arg: string,
  allowed: Allowed,
  tool: 'pg_dump' | 'pg_dumpall' | 'pg_restore',
): string | undefined {
  const key = `${tool}\u0000${arg}`;
  if (!cache.has(key)) cache.set(key, extraArgProblem(arg, allowed, tool));
  return cache.get(key);
}

function extraArgProblem(
  arg: string,
  allowed: Allowed,
  tool: 'pg_dump' | 'pg_dumpall' | 'pg_restore',
): string | undefined {
  if (!arg.startsWith('--')) {
    return `"${arg}" is not allowed: write long options as --option or --option=value (short options and separate values are refused)`;
  }
  const space = /^(--[a-z-]+)\s+(\S.*)$/.exec(arg);
  if (space !== null && allowed[space[1] as string] === 'value') {
    return `write the value after "=" in the same item: "${space[1]}=${space[2]}"`;
  }
  const eq = arg.indexOf('=');
  const option = eq === -1 ? arg : arg.slice(0, eq);
  const kind = allowed[option];
  const reserved = RESERVED[option];
  if (kind === undefined && reserved !== undefined)
    return `${tool} option "${option}" is not allowed in a manifest: ${reserved}`;
  if (kind === undefined) {
    const hint = didYouMean(option, Object.keys(allowed));
    return `${tool} option "${option}" is not allowed in a manifest${hint} (the allow-list is in docs/manifest-reference.md#extra-arguments)`;
  }
  const value = eq === -1 ? undefined : arg.slice(eq + 1);
  if (kind === 'flag' && value !== undefined) return `${tool} option "${option}" takes no value`;
  if (kind === 'value') {
    if (value === undefined || value === '')
      return `${tool} option "${option}" needs a value: ${option}=VALUE`;
    const bad = UNSAFE_VALUE.exec(value);
    if (bad !== null)
      return `the value of "${option}" contains ${describeChar(bad[0])}, which is not allowed`;
    if (/(^|\/)\.\.(\/|$)/.test(value)) return `the value of "${option}" contains a "../" path segment`;
  }
  return undefined;
}

function describeChar(c: string): string {
  const code = c.charCodeAt(0);
  return code < 0x20 || code === 0x7f
    ? `control character U+${code.toString(16).padStart(4, '0')}`
    : `"${c}"`;
}
