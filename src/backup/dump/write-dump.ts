import { createHash } from 'node:crypto';
import { chmod, open } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ageSeal } from '../../encryption/age-stream.ts';
import { AGE_SUFFIX, type DumpEncryption, dumpEncryption } from '../../encryption/dump-encryption.ts';
import { encryptedTarget } from '../../encryption/encrypted-target.ts';
import { PgbackmanError } from '../../errors.ts';
import type { Encryption, PgSQLNode } from '../../manifest/generated/manifest-types.ts';
import type { EffectiveSettings } from '../../manifest/resolve-settings.ts';
import type { FileSum, WrittenEntry } from '../files/backup-manifest.ts';
import { type FileStream, TreeFollower } from '../files/follow-tree.ts';
import { fsync, hashFile, type WrittenFile, writeSmall } from '../files/hashed-file.ts';
import { type ByteTarget, fileTarget, openHashedSink } from '../files/hashed-sink.ts';
import { captureTool } from './capture-tool.ts';
import { conninfo } from './conninfo.ts';
import { filterRoles } from './filter-roles.ts';
import { dumpFileName, pgDumpArgs } from './pg-dump-args.ts';
import { pgDumpVersion } from './pg-dump-version.ts';
import { spawnTool } from './spawn-tool.ts';

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
  /** config.sql's text (renderDatabaseConfig), for a database dump that includes its configuration. */
  readonly config?: string | undefined;
  readonly env: NodeJS.ProcessEnv;
  /**
   * For a dump that passes through pgbackman (stdout): the target its stored bytes go to, given the file's
   * target in the folder; the run wraps it to stream the same bytes to further destinations as they come.
   */
  readonly tee?: (fileName: string, file: ByteTarget) => ByteTarget;
  /** For a directory-format dump: where each of its files streams as pg_dump writes it (the run's live copies). */
  readonly streamTree?: (dirName: string) => {
    streamTo(name: string): FileStream | undefined;
    settled(): Promise<void>;
  };
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
  /** `.age` when every file is encrypted (`database.dump.age`, `roles.sql.age`), else empty. */
  readonly suffix: string;
  /** How the files were encrypted, with each one's plaintext checksum; undefined when they were not. */
  readonly encryption: DumpEncryption | undefined;
  readonly pgDumpVersion: string;
}

/**
 * Writes one dump into `dir` (which exists and is empty): pg_dump or pg_dumpall, and beside a database's dump
 * its roles.sql and config.sql, each file hashed as it is written and synced. Throws when any tool fails.
 */
export async function writeDump(
  t: DumpTarget,
  dir: string,
  signal?: AbortSignal,
  onToolDone?: () => void,
): Promise<WrittenDump> {
  const maintenance = t.node.maintenanceDatabase ?? 'postgres';
  const libpq = t.binMajor === undefined ? {} : { libpqMajor: t.binMajor };
  const connection = conninfo(t.node, t.database ?? maintenance, libpq);
  const enc = t.settings.encryption;
  const suffix = enc === undefined ? '' : AGE_SUFFIX;
  const fileName = dumpFileName(t.settings) + suffix;
  const target = join(dir, fileName);
  // pg_dump 10 and newer can leave the sync to pgbackman, which then runs it beside the hash.
  const noSync = t.binMajor !== undefined && t.binMajor >= 10;
  const cmd = pgDumpArgs(t.settings, connection, { target, noSync, encrypted: enc !== undefined });
  if (enc !== undefined && cmd.output !== 'stdout')
    throw new PgbackmanError('INVALID_INPUT', 'an encrypted dump cannot use format: directory');
  const plaintext: Record<string, FileSum> = {};
  const sha256: Record<string, unknown> = {};
  const written: Record<string, WrittenEntry> = {};
  let bytes: number;
  let globals: Promise<unknown> = Promise.resolve();
  let rolesFile: Promise<WrittenFile> | undefined;
  let configFile: Promise<WrittenFile> | undefined;
  let version: Promise<string> | undefined;
  try {
    // Encrypted, the file (and every destination it is streamed to) only ever receives sealed bytes; the
    // sink hashes the plaintext on the way.
    const file =
      cmd.output === 'stdout' && (t.tee !== undefined || enc !== undefined)
        ? await fileTarget(target)
        : undefined;
    const out = file !== undefined && t.tee !== undefined ? t.tee(fileName, file) : file;
    let sealed: Awaited<ReturnType<typeof encryptedTarget>> | undefined;
    try {
      sealed =
        enc === undefined || out === undefined ? undefined : await encryptedTarget(out, enc.age.recipients);
    } catch (err) {
      await out?.abort(); // nothing streamed, nothing left open
      throw err;
    }
    const sink = cmd.output === 'stdout' ? await openHashedSink(sealed ?? out ?? target) : undefined;
    // Created here, never an existing file, and 0600: pg_dump then only truncates and writes it.
    if (cmd.output === 'file') await (await open(target, 'wx', 0o600)).close();
    // The dump starts first: the version, the roles and the configuration are asked while it runs.
    const tool = spawnTool(
      join(t.binDir, cmd.tool),
      cmd.args,
      t.env,
      join(dir, 'dump.log'),
      signal,
      sink?.stdout,
    );
    // Only the record needs it.
    version = pgDumpVersion(join(t.binDir, 'pg_dump'));
    version.catch(() => undefined);
    // The roles and the database's configuration are small: taken, written and synced alongside the dump.
    const globalsLog = join(dir, 'globals.log');
    const capture = (tool: string, args: string[]) =>
      captureTool(join(t.binDir, tool), args, t.env, globalsLog, signal);
    rolesFile =
      t.database !== undefined && t.settings.includeRoles
        ? capture('pg_dumpall', [
            '--dbname',
            conninfo(t.node, maintenance, libpq),
            '--roles-only',
            '--no-password',
          ]).then((sql) => small(join(dir, `roles.sql${suffix}`), filterRoles(sql, t.roles), enc, plaintext))
        : undefined;
    // Written from what the node said before the dump started: no second pg_dump for a few lines.
    configFile =
      t.database !== undefined && t.settings.includeDatabaseConfig && t.config !== undefined
        ? small(join(dir, `config.sql${suffix}`), t.config, enc, plaintext)
        : undefined;
    // Observed now, so a failure of one while the dump runs is never an unhandled rejection.
    globals = Promise.allSettled([rolesFile, configFile]).then(() =>
      fsync(globalsLog).catch(() => undefined),
    );
    if (sink !== undefined) {
      try {
        await tool.done;
      } catch (err) {
        // The file's write failing (a full disk) is why the tool saw a broken pipe: that is the cause to report.
        throw (await sink.abort()) ?? err;
      }
      onToolDone?.();
      const out = await sink.done;
      await sink.commit();
      if (sealed !== undefined) plaintext[fileName] = out;
      const file = sealed?.stored() ?? out;
      sha256[fileName] = file.sha256;
      written[fileName] = { bytes: file.bytes, sha256: file.sha256 };
      bytes = file.bytes;
    } else if (cmd.output === 'file') {
      tool.stdout.resume();
      await tool.done;
      onToolDone?.();
      // Hashed only now: closing a custom dump, pg_dump rewrote the table of contents at its start.
      const [file] = await Promise.all([hashFile(target), fsync(target)]);
      sha256[fileName] = file.sha256;
      written[fileName] = { bytes: file.bytes, sha256: file.sha256 };
      bytes = file.bytes;
    } else {
      const streams = t.streamTree?.(fileName);
      const follower = new TreeFollower(target, streams?.streamTo);
      try {
        tool.stdout.resume();
        await tool.done;
        onToolDone?.();
        const tree = await follower.finish();
        // pg_dump made them with the process's umask (0644 as a rule): a dump's files are 0600, as the others.
        await Promise.all(Object.keys(tree.files).map((name) => chmod(join(target, name), 0o600)));
        sha256[fileName] = tree.files;
        const inner: Record<string, FileSum> = {};
        for (const [name, sum] of Object.entries(tree.files))
          inner[name] = { bytes: tree.sizes[name] ?? 0, sha256: sum };
        written[fileName] = inner;
        bytes = tree.bytes;
      } finally {
        await follower.close();
        // Every upload has ended or been cancelled: what arrived is recorded before the run goes on.
        await streams?.settled();
      }
    }
  } finally {
    await globals;
  }
  await fsync(join(dir, 'dump.log')).catch(() => undefined);
  for (const [name, file] of [
    [`roles.sql${suffix}`, rolesFile],
    [`config.sql${suffix}`, configFile],
  ] as const) {
    if (file === undefined) continue;
    const sum = await file;
    sha256[name] = sum.sha256;
    written[name] = sum;
  }
  return {
    fileName,
    bytes,
    sha256,
    written,
    roles: rolesFile !== undefined,
    config: configFile !== undefined,
    suffix,
    encryption: enc === undefined ? undefined : dumpEncryption(enc, plaintext),
    pgDumpVersion: await (version as Promise<string>),
  };
}

/** A small file written (sealed first when encrypted) and synced, with its stored size and sha256. */
async function small(
  path: string,
  text: string,
  enc: Encryption | undefined,
  plaintext: Record<string, FileSum>,
): Promise<WrittenFile> {
  const data = Buffer.from(text, 'utf8');
  if (enc !== undefined)
    plaintext[basename(path)] = {
      bytes: data.length,
      sha256: createHash('sha256').update(data).digest('hex'),
    };
  const file = await writeSmall(path, enc === undefined ? data : await ageSeal(enc.age.recipients, data));
  await fsync(path);
  return file;
}
