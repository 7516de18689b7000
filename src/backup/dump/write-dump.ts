import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { PgSQLNode } from '../../manifest/generated/manifest-types.ts';
import type { EffectiveSettings } from '../../manifest/resolve-settings.ts';
import type { FileSum, WrittenEntry } from '../files/backup-manifest.ts';
import { TreeFollower } from '../files/follow-tree.ts';
import { fsync, writeSmall } from '../files/hashed-file.ts';
import { openHashedSink } from '../files/hashed-sink.ts';
import { captureTool, databaseConfig } from './capture-tool.ts';
import { conninfo } from './conninfo.ts';
import { filterRoles } from './filter-roles.ts';
import { dumpFileName, pgDumpArgs } from './pg-dump-args.ts';
import { spawnTool } from './spawn-tool.ts';

const run = promisify(execFile);

export interface DumpTarget {
  readonly node: PgSQLNode['spec'];
  /** The database, or undefined for a CLUSTER dump. */
  readonly database: string | undefined;
  readonly settings: EffectiveSettings;
  /** The PostgreSQL bin directory whose pg_dump and pg_dumpall to use. */
  readonly binDir: string;
  /** That pg_dump's major version: from 16 on, its libpq refuses cleartext passwords itself (require_auth). */
  readonly binMajor?: number;
  /** The roles the database needs (roles.sql keeps only these). */
  readonly roles: readonly string[];
  readonly env: NodeJS.ProcessEnv;
}

export interface WrittenDump {
  readonly fileName: string;
  readonly bytes: number;
  /** The catalogue's checksums: a file's sha256, or a directory-format dump's per inner file, by name. */
  readonly sha256: Record<string, unknown>;
  /** The same files with their sizes too (backup.json's `files.written`). */
  readonly written: Record<string, WrittenEntry>;
  readonly roles: boolean;
  readonly config: boolean;
  readonly pgDumpVersion: string;
}

/**
 * Writes one dump into `dir` (which exists and is empty): pg_dump or pg_dumpall, and beside a database's dump
 * its roles.sql and config.sql, each file hashed as it is written and synced. Throws when any tool fails.
 */
export async function writeDump(t: DumpTarget, dir: string, signal?: AbortSignal): Promise<WrittenDump> {
  const maintenance = t.node.maintenanceDatabase ?? 'postgres';
  // Only the record needs it: asked while the dump runs.
  const version = run(join(t.binDir, 'pg_dump'), ['--version']).then((r) =>
    r.stdout.trim().replace(/^pg_dump \(PostgreSQL\) /, ''),
  );
  version.catch(() => undefined);
  const libpq = t.binMajor === undefined ? {} : { libpqMajor: t.binMajor };
  const connection = conninfo(t.node, t.database ?? maintenance, libpq);
  const fileName = dumpFileName(t.settings);
  const target = join(dir, fileName);
  const cmd = pgDumpArgs(t.settings, connection, target);
  // The roles and the database's configuration are small: taken alongside the dump, not after it.
  const globalsLog = join(dir, 'globals.log');
  const capture = (tool: string, args: string[]) =>
    captureTool(join(t.binDir, tool), args, t.env, globalsLog, signal);
  const rolesSql =
    t.database !== undefined && t.settings.includeRoles
      ? capture('pg_dumpall', [
          '--dbname',
          conninfo(t.node, maintenance, libpq),
          '--roles-only',
          '--no-password',
        ])
      : undefined;
  const configSql =
    t.database !== undefined && t.settings.includeDatabaseConfig
      ? capture('pg_dump', [
          '--dbname',
          connection,
          '--no-password',
          '--create',
          '--schema-only',
          '--schema=pg_toast',
        ])
      : undefined;
  // Observed now, so a failure of one while the dump runs is never an unhandled rejection.
  const globals = Promise.allSettled([rolesSql, configSql]);
  const sha256: Record<string, unknown> = {};
  const written: Record<string, WrittenEntry> = {};
  let bytes: number;
  try {
    const sink = cmd.output === 'stdout' ? await openHashedSink(target) : undefined;
    const tool = spawnTool(
      join(t.binDir, cmd.tool),
      cmd.args,
      t.env,
      join(dir, 'dump.log'),
      signal,
      sink?.stdout,
    );
    if (sink !== undefined) {
      try {
        await tool.done;
      } catch (err) {
        // The file's write failing (a full disk) is why the tool saw a broken pipe: that is the cause to report.
        throw (await sink.abort()) ?? err;
      }
      const file = await sink.done;
      await sink.commit();
      sha256[fileName] = file.sha256;
      written[fileName] = { bytes: file.bytes, sha256: file.sha256 };
      bytes = file.bytes;
    } else {
      const follower = new TreeFollower(target);
      try {
        tool.stdout.resume();
        await tool.done;
        const tree = await follower.finish();
        sha256[fileName] = tree.files;
        const inner: Record<string, FileSum> = {};
        for (const [name, sum] of Object.entries(tree.files))
          inner[name] = { bytes: tree.sizes[name] ?? 0, sha256: sum };
        written[fileName] = inner;
        bytes = tree.bytes;
      } finally {
        await follower.close();
      }
    }
  } finally {
    await globals;
  }
  const small = async (name: string, text: string) => {
    const file = await writeSmall(join(dir, name), text);
    sha256[name] = file.sha256;
    written[name] = file;
  };
  if (rolesSql !== undefined) await small('roles.sql', filterRoles(await rolesSql, t.roles));
  if (configSql !== undefined) await small('config.sql', databaseConfig(await configSql));
  for (const f of ['roles.sql', 'config.sql', 'dump.log', 'globals.log'])
    await fsync(join(dir, f)).catch(() => undefined);
  return {
    fileName,
    bytes,
    sha256,
    written,
    roles: rolesSql !== undefined,
    config: configSql !== undefined,
    pgDumpVersion: await version,
  };
}
