import type { EffectiveSettings } from '../../manifest/resolve-settings.ts';

export interface DumpCommand {
  readonly tool: 'pg_dump' | 'pg_dumpall';
  readonly args: readonly string[];
  /** Where the dump goes: pg_dump's stdout (hashed and written by pgbackman) or a directory pg_dump writes. */
  readonly output: 'stdout' | 'directory';
}

/**
 * The pg_dump (or pg_dumpall, for CLUSTER) arguments for a dump, as an array for spawn: no shell ever
 * sees them. Extra arguments were allow-listed when the manifest was validated.
 */
export function pgDumpArgs(settings: EffectiveSettings, connection: string, directory?: string): DumpCommand {
  if (settings.code === 'CLUSTER') {
    return {
      tool: 'pg_dumpall',
      args: ['--dbname', connection, '--no-password', ...settings.extraArgs],
      output: 'stdout',
    };
  }
  const args = ['--dbname', connection, '--no-password', '--verbose', `--format=${settings.format}`];
  if (settings.code === 'SCHEMA') args.push('--schema-only');
  if (settings.code === 'DATA') args.push('--data-only');
  if (settings.code !== 'SCHEMA') args.push('--blobs');
  if (settings.format === 'directory') {
    if (settings.jobs > 1) args.push(`--jobs=${settings.jobs}`);
    args.push(`--file=${directory ?? 'dump'}`);
  }
  if (settings.compression !== undefined && settings.format !== 'tar')
    args.push(`--compress=${settings.compression}`);
  args.push(...settings.extraArgs);
  return { tool: 'pg_dump', args, output: settings.format === 'directory' ? 'directory' : 'stdout' };
}

/** The dump file's name by format, so a person can tell what a file is without the catalogue. */
const FILE_BY_FORMAT = {
  custom: 'database.dump',
  directory: 'database.dir',
  plain: 'database.sql',
  tar: 'database.tar',
} as const satisfies Record<EffectiveSettings['format'], string>;

/** Every name a run's dump file can have (recovery looks for them in a directory whose run was lost). */
export const DUMP_FILE_NAMES: readonly string[] = [...Object.values(FILE_BY_FORMAT), 'cluster.sql'];

export function dumpFileName(settings: EffectiveSettings): string {
  return settings.code === 'CLUSTER' ? 'cluster.sql' : FILE_BY_FORMAT[settings.format];
}
