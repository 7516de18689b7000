import type { EffectiveSettings } from '../../manifest/resolve-settings.ts';

export interface DumpCommand {
  readonly tool: 'pg_dump' | 'pg_dumpall';
  readonly args: readonly string[];
  /**
   * Where the dump goes: pg_dump's stdout (hashed and written by pgbackman), a file pg_dump writes (custom:
   * hashed once pg_dump closed it) or a directory pg_dump writes (its files hashed as they grow).
   */
  readonly output: 'stdout' | 'file' | 'directory';
}

export interface DumpArgsOptions {
  /** The file or directory pg_dump writes (custom and directory formats). */
  readonly target?: string;
  /** pgbackman syncs the file itself, alongside its hash: pg_dump is told not to (10 and newer know --no-sync). */
  readonly noSync?: boolean;
  /** The dump is encrypted on its way to disk: a custom dump then goes to stdout, through pgbackman. */
  readonly encrypted?: boolean;
}

/**
 * The pg_dump (or pg_dumpall, for CLUSTER) arguments for a dump, as an array for spawn: no shell ever
 * sees them. Extra arguments were allow-listed when the manifest was validated.
 */
export function pgDumpArgs(
  settings: EffectiveSettings,
  connection: string,
  options: DumpArgsOptions = {},
): DumpCommand {
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
    args.push(`--file=${options.target ?? 'dump'}`);
  }
  // Custom to a file, as a bare pg_dump -f: no per-4 KiB wake-up of pgbackman, and each table's offset in the TOC.
  if (settings.format === 'custom' && options.encrypted !== true) {
    args.push(`--file=${options.target ?? 'database.dump'}`);
    if (options.noSync === true) args.push('--no-sync');
  }
  if (settings.compression !== undefined && settings.format !== 'tar')
    args.push(`--compress=${settings.compression}`);
  args.push(...settings.extraArgs);
  // Encrypted, a custom dump's TOC has no offsets (stdout cannot seek): a restore of it reads it in order, one job.
  const output =
    settings.format === 'directory'
      ? 'directory'
      : settings.format === 'custom' && options.encrypted !== true
        ? 'file'
        : 'stdout';
  return { tool: 'pg_dump', args, output };
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
