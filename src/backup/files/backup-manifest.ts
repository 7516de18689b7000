import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { checkDumpEncryption, type DumpEncryption } from '../../encryption/dump-encryption.ts';
import { messageOf, PgbackmanError } from '../../errors.ts';
import type { EffectiveSettings } from '../../manifest/resolve-settings.ts';

// backup.json: what a dump folder says about itself, so it can be restored (and catalogued again) with no
// catalogue at all. Written into the run's `.partial` directory before it is renamed into place: a folder
// without `.partial` always has one, a failed run leaves none. It never holds a secret: no connection
// string, password or password file, only names, versions, times, sizes and checksums.

/** The file's name in every dump folder. */
export const BACKUP_MANIFEST = 'backup.json';

/** The version of the file's layout this pgbackman writes and reads. */
export const BACKUP_MANIFEST_VERSION = 1;

/** The largest backup.json read: a directory-format dump of 100,000 tables is about 15 MB. */
const MAX_BYTES = 64 * 1024 * 1024;

const CODES = ['CLUSTER', 'FULL', 'SCHEMA', 'DATA'] as const;
const FORMATS = ['custom', 'directory', 'plain', 'tar'] as const;
const KEEP_TIERS = ['last', 'hourly', 'daily', 'weekly', 'monthly', 'yearly'] as const;

/** One file's size and checksum. */
export interface FileSum {
  readonly bytes: number;
  readonly sha256: string;
}

/** A file's size and checksum, or, for a directory-format dump, each of its inner files' by name. */
export type WrittenEntry = FileSum | Readonly<Record<string, FileSum>>;

/** The retention the run was taken with, as the catalogue stores it on the run. */
export interface ManifestRetention {
  readonly period?: string;
  readonly redundancy: number;
  readonly keep?: Partial<Record<(typeof KEEP_TIERS)[number], number>>;
  readonly timezone?: string;
}

export interface BackupManifest {
  readonly formatVersion: typeof BACKUP_MANIFEST_VERSION;
  readonly runId: string;
  readonly definition: string | null;
  readonly snapshot: string | null;
  readonly server: string;
  readonly node: string;
  /** null for a CLUSTER dump. */
  readonly database: string | null;
  readonly code: (typeof CODES)[number];
  /** plain for a CLUSTER dump (pg_dumpall). */
  readonly format: (typeof FORMATS)[number];
  /** pg_dump's --compress, present only when the dump was taken with it. */
  readonly compression?: number | string;
  readonly pgDumpVersion: string;
  readonly serverVersion: string;
  /** The source cluster's pg_control system identifier (absent in folders written before it was recorded). */
  readonly systemIdentifier?: string | null;
  /** Each table's estimated rows when the dump was taken (absent before it was recorded; null for CLUSTER). */
  readonly tables?: Readonly<Record<string, number>> | null;
  /** The database's size when it was dumped; null for a CLUSTER dump. */
  readonly databaseBytes: number | null;
  /** ISO 8601, UTC. */
  readonly startedAt: string;
  readonly finishedAt: string;
  /** The manifest revision the definition was applied from, when known. */
  readonly revision: string | null;
  readonly files: {
    /** The dump itself: a file, or a directory-format dump's directory. */
    readonly dump: string;
    readonly roles: string | null;
    readonly config: string | null;
    /** Every file the run wrote with a checksum: the catalogue's sha256 map, with sizes. */
    readonly written: Readonly<Record<string, WrittenEntry>>;
  };
  readonly retention: ManifestRetention;
  /** Present when the files are encrypted: the recipients, and each file's plaintext size and sha256. */
  readonly encryption?: DumpEncryption;
}

/** What a successful run knows when its dump is written: everything backup.json says. */
export interface RunFacts {
  readonly runId: string;
  readonly definition: string | null;
  readonly snapshot: string | null;
  readonly server: string;
  readonly node: string;
  readonly database: string | null;
  readonly settings: Pick<EffectiveSettings, 'code' | 'format' | 'compression'>;
  readonly pgDumpVersion: string;
  readonly serverVersion: string;
  readonly systemIdentifier?: string | null;
  readonly tables?: Readonly<Record<string, number>> | null;
  readonly databaseBytes: number | null;
  readonly startedAt: Date;
  readonly finishedAt: Date;
  readonly revision: string | null;
  readonly dump: {
    readonly fileName: string;
    readonly written: Readonly<Record<string, WrittenEntry>>;
    readonly roles: boolean;
    readonly config: boolean;
    /** `.age` when the files are encrypted. */
    readonly suffix?: string;
    readonly encryption?: DumpEncryption | undefined;
  };
  readonly retention: ManifestRetention;
}

/** backup.json's object for a run: pure, so every field can be checked without a dump. */
export function backupManifest(f: RunFacts): BackupManifest {
  const cluster = f.settings.code === 'CLUSTER';
  // As pg-dump-args passes it: pg_dumpall and the tar format take no compression.
  const compressed = !cluster && f.settings.format !== 'tar' && f.settings.compression !== undefined;
  const r = f.retention;
  return {
    formatVersion: BACKUP_MANIFEST_VERSION,
    runId: f.runId,
    definition: f.definition,
    snapshot: f.snapshot,
    server: f.server,
    node: f.node,
    database: cluster ? null : f.database,
    code: f.settings.code,
    format: cluster ? 'plain' : f.settings.format,
    ...(compressed ? { compression: f.settings.compression } : {}),
    pgDumpVersion: f.pgDumpVersion,
    serverVersion: f.serverVersion,
    systemIdentifier: f.systemIdentifier ?? null,
    tables: cluster ? null : (f.tables ?? null),
    databaseBytes: cluster ? null : f.databaseBytes,
    startedAt: f.startedAt.toISOString(),
    finishedAt: f.finishedAt.toISOString(),
    revision: f.revision,
    files: {
      dump: f.dump.fileName,
      roles: f.dump.roles ? `roles.sql${f.dump.suffix ?? ''}` : null,
      config: f.dump.config ? `config.sql${f.dump.suffix ?? ''}` : null,
      written: f.dump.written,
    },
    retention: {
      ...(r.period !== undefined ? { period: r.period } : {}),
      redundancy: r.redundancy,
      ...(r.keep !== undefined ? { keep: r.keep } : {}),
      ...(r.timezone !== undefined ? { timezone: r.timezone } : {}),
    },
    ...(f.dump.encryption === undefined ? {} : { encryption: f.dump.encryption }),
  };
}

/** Each file `written` lists, by its path in the folder (`database.dir/toc.dat` for a directory dump's). */
export function writtenFiles(written: BackupManifest['files']['written']): [string, FileSum][] {
  return Object.entries(written).flatMap(([name, entry]): [string, FileSum][] =>
    'sha256' in entry && typeof entry.sha256 === 'string'
      ? [[name, entry as FileSum]]
      : Object.entries(entry as Readonly<Record<string, FileSum>>).map(([f, sum]) => [`${name}/${f}`, sum]),
  );
}

/** backup.json as written: pretty-printed, one object, a final newline. */
export function backupManifestText(m: BackupManifest): string {
  return `${JSON.stringify(m, null, 2)}\n`;
}

/**
 * Writes backup.json into `dir` (a run's `.partial` directory) and syncs it. Never over an existing file;
 * the directory's own fsync and rename, which make it part of the finished dump, are the caller's.
 */
export async function writeBackupManifest(dir: string, m: BackupManifest): Promise<void> {
  const file = await open(join(dir, BACKUP_MANIFEST), 'wx', 0o600);
  try {
    await file.writeFile(backupManifestText(m), 'utf8');
    await file.sync();
  } finally {
    await file.close();
  }
}

/**
 * Reads and checks the backup.json of a dump folder, which may come from anywhere: a regular file (not a
 * link), of a known formatVersion, every required field of the right type, and every file name a plain
 * name inside the folder. Throws INVALID_INPUT naming the file and what is wrong (NOT_FOUND when there is none).
 */
export async function readBackupManifest(dir: string): Promise<BackupManifest> {
  const path = join(dir, BACKUP_MANIFEST);
  const text = await readLimited(path);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new PgbackmanError('INVALID_INPUT', `${path}: not valid JSON: ${messageOf(err)}`);
  }
  return checkBackupManifest(parsed, path);
}

async function readLimited(path: string): Promise<string> {
  let file: Awaited<ReturnType<typeof open>>;
  try {
    // O_NOFOLLOW: a symlink named backup.json could point anywhere.
    file = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new PgbackmanError(
        'NOT_FOUND',
        `${path} does not exist: not a dump folder pgbackman wrote (or one written before backup.json)`,
      );
    if (code === 'ELOOP')
      throw new PgbackmanError('INVALID_INPUT', `${path}: is a symbolic link, not the file a run writes`);
    throw new PgbackmanError('IO', `${path}: cannot be read: ${messageOf(err)}`);
  }
  try {
    const st = await file.stat();
    if (!st.isFile()) throw new PgbackmanError('INVALID_INPUT', `${path}: is not a regular file`);
    if (st.size > MAX_BYTES)
      throw new PgbackmanError(
        'INVALID_INPUT',
        `${path}: holds ${st.size} bytes, more than the ${MAX_BYTES} a backup.json may have`,
      );
    return await file.readFile('utf8');
  } finally {
    await file.close();
  }
}

/** Checks an object parsed from `path` (named in the errors) against backup.json's layout. */
export function checkBackupManifest(value: unknown, path: string): BackupManifest {
  const bad = (where: string, what: string): never => {
    throw new PgbackmanError('INVALID_INPUT', `${path}: ${where} ${what}`);
  };
  const obj = (v: unknown, where: string): Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : bad(where, `must be a JSON object, not ${shown(v)}`);
  const m = obj(value, 'the file');
  const field = (o: Record<string, unknown>, key: string, where: string): unknown =>
    Object.hasOwn(o, key) ? o[key] : bad(where, 'is missing');
  const str = (o: Record<string, unknown>, key: string, where = key): string => {
    const v = field(o, key, where);
    return typeof v === 'string' && v !== '' ? v : bad(where, `must be a non-empty string, not ${shown(v)}`);
  };
  const strOrNull = (o: Record<string, unknown>, key: string, where = key): string | null =>
    field(o, key, where) === null ? null : str(o, key, where);
  const count = (v: unknown, where: string): number =>
    Number.isSafeInteger(v) && (v as number) >= 0
      ? (v as number)
      : bad(where, `must be a whole number of 0 or more, not ${shown(v)}`);
  const oneOf = <T extends string>(o: Record<string, unknown>, key: string, allowed: readonly T[]): T => {
    const v = str(o, key);
    return (allowed as readonly string[]).includes(v)
      ? (v as T)
      : bad(key, `must be one of ${allowed.join(', ')}, not ${JSON.stringify(v)}`);
  };
  const time = (key: string): string => {
    const v = str(m, key);
    return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(v) && !Number.isNaN(Date.parse(v))
      ? v
      : bad(key, `must be an ISO 8601 UTC time (2026-12-01T02:30:00.000Z), not ${JSON.stringify(v)}`);
  };
  const name = (v: unknown, where: string): string =>
    typeof v === 'string' && isPlainName(v)
      ? v
      : bad(
          where,
          `${JSON.stringify(v)} is not a plain file name (one name inside the dump folder: no "/", no "..")`,
        );
  const sum = (v: unknown, where: string): FileSum => {
    const o = obj(v, where);
    const sha256 = field(o, 'sha256', `${where}.sha256`);
    if (typeof sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(sha256))
      bad(`${where}.sha256`, `must be 64 lowercase hex digits, not ${shown(sha256)}`);
    return { bytes: count(field(o, 'bytes', `${where}.bytes`), `${where}.bytes`), sha256: sha256 as string };
  };

  const version = field(m, 'formatVersion', 'formatVersion');
  if (version !== BACKUP_MANIFEST_VERSION)
    bad(
      'formatVersion',
      `is ${shown(version)}; this pgbackman reads formatVersion ${BACKUP_MANIFEST_VERSION} (a newer pgbackman may have written it)`,
    );
  const runId = str(m, 'runId');
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(runId))
    bad('runId', `must be a UUID, not ${JSON.stringify(runId)}`);
  const definition = strOrNull(m, 'definition');
  const snapshot = strOrNull(m, 'snapshot');
  if ((definition === null) === (snapshot === null))
    bad('definition', 'and snapshot: exactly one of them must be set');
  const code = oneOf(m, 'code', CODES);
  const database = strOrNull(m, 'database');
  if ((code === 'CLUSTER') !== (database === null))
    bad(
      'database',
      code === 'CLUSTER' ? 'must be null for a CLUSTER dump' : `must be set for a ${code} dump`,
    );
  const format = oneOf(m, 'format', FORMATS);
  let compression: number | string | undefined;
  if (Object.hasOwn(m, 'compression')) {
    const c = m.compression;
    if (typeof c === 'string' ? !/^[a-z0-9]+(:\d+)?$/.test(c) : !Number.isSafeInteger(c))
      bad('compression', `must be a level or a method, not ${shown(c)}`);
    compression = c as number | string;
  }
  const databaseBytesValue = field(m, 'databaseBytes', 'databaseBytes');
  const databaseBytes = databaseBytesValue === null ? null : count(databaseBytesValue, 'databaseBytes');

  const f = obj(field(m, 'files', 'files'), 'files');
  const dump = name(field(f, 'dump', 'files.dump'), 'files.dump');
  const roles = field(f, 'roles', 'files.roles') === null ? null : name(f.roles, 'files.roles');
  const config = field(f, 'config', 'files.config') === null ? null : name(f.config, 'files.config');
  const writtenIn = obj(field(f, 'written', 'files.written'), 'files.written');
  const written: Record<string, WrittenEntry> = {};
  for (const [file, entry] of Object.entries(writtenIn)) {
    const where = `files.written[${JSON.stringify(file)}]`;
    name(file, 'files.written:');
    const e = obj(entry, where);
    // A file's entry holds a number and a string; a directory's, one object per file.
    if (Object.keys(e).length === 0) bad(where, 'is empty');
    if (Object.values(e).some((v) => typeof v !== 'object' || v === null)) written[file] = sum(e, where);
    else {
      const inner: Record<string, FileSum> = {};
      for (const [innerName, innerSum] of Object.entries(e)) {
        name(innerName, `${where}:`);
        inner[innerName] = sum(innerSum, `${where}[${JSON.stringify(innerName)}]`);
      }
      written[file] = inner;
    }
  }
  for (const [key, file] of [
    ['dump', dump],
    ['roles', roles],
    ['config', config],
  ] as const)
    if (file !== null && !Object.hasOwn(written, file))
      bad(`files.${key}`, `names ${JSON.stringify(file)}, which files.written does not list`);

  const r = obj(field(m, 'retention', 'retention'), 'retention');
  const retention: {
    period?: string;
    redundancy: number;
    keep?: Partial<Record<(typeof KEEP_TIERS)[number], number>>;
    timezone?: string;
  } = { redundancy: count(field(r, 'redundancy', 'retention.redundancy'), 'retention.redundancy') };
  if (Object.hasOwn(r, 'period')) retention.period = str(r, 'period', 'retention.period');
  if (Object.hasOwn(r, 'timezone')) retention.timezone = str(r, 'timezone', 'retention.timezone');
  if (Object.hasOwn(r, 'keep')) {
    const k = obj(r.keep, 'retention.keep');
    const keep: Partial<Record<(typeof KEEP_TIERS)[number], number>> = {};
    for (const [tier, n] of Object.entries(k)) {
      if (!(KEEP_TIERS as readonly string[]).includes(tier))
        bad('retention.keep', `has an unknown tier ${JSON.stringify(tier)} (${KEEP_TIERS.join(', ')})`);
      keep[tier as (typeof KEEP_TIERS)[number]] = count(n, `retention.keep.${tier}`);
    }
    retention.keep = keep;
  }
  const encryption = checkDumpEncryption(m.encryption, path);
  for (const file of Object.keys(encryption?.plaintext ?? {}))
    if (!Object.hasOwn(written, file))
      bad('encryption.plaintext', `names ${JSON.stringify(file)}, which files.written does not list`);

  return {
    formatVersion: BACKUP_MANIFEST_VERSION,
    runId,
    definition,
    snapshot,
    server: str(m, 'server'),
    node: str(m, 'node'),
    database,
    code,
    format,
    ...(compression !== undefined ? { compression } : {}),
    pgDumpVersion: str(m, 'pgDumpVersion'),
    serverVersion: str(m, 'serverVersion'),
    systemIdentifier: optionalText(m.systemIdentifier, 'systemIdentifier'),
    tables: optionalCounts(m.tables, 'tables'),
    databaseBytes,
    startedAt: time('startedAt'),
    finishedAt: time('finishedAt'),
    revision: strOrNull(m, 'revision'),
    files: { dump, roles, config, written },
    retention,
    ...(encryption === null ? {} : { encryption }),
  };
}

/** One name inside a folder: not empty, not `.`, no `..`, no separator, no NUL or other control character. */
export function isPlainName(s: string): boolean {
  return (
    s.length > 0 &&
    s.length <= 255 &&
    s !== '.' &&
    !s.includes('..') &&
    !s.includes('/') &&
    !s.includes('\\') &&
    !/[\u0000-\u001f\u007f]/.test(s)
  );
}

function shown(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** An optional text field of backup.json: absent or null in folders written before it existed. */
function optionalText(v: unknown, name: string): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string' || !/^[0-9]{1,20}$/.test(v))
    throw new PgbackmanError('INVALID_INPUT', `${BACKUP_MANIFEST}: ${name} must be a string of digits`);
  return v;
}

/** `tables`: table name → estimated rows (whole numbers, -1 for never analysed); absent or null allowed. */
function optionalCounts(v: unknown, name: string): Readonly<Record<string, number>> | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'object' || Array.isArray(v))
    throw new PgbackmanError(
      'INVALID_INPUT',
      `${BACKUP_MANIFEST}: ${name} must be an object of table → rows`,
    );
  for (const [table, rows] of Object.entries(v as Record<string, unknown>))
    if (typeof rows !== 'number' || !Number.isSafeInteger(rows) || rows < -1 || table.length > 200)
      throw new PgbackmanError(
        'INVALID_INPUT',
        `${BACKUP_MANIFEST}: ${name}["${table.slice(0, 80)}"] must be a whole number of rows`,
      );
  return v as Record<string, number>;
}
