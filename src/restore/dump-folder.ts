import { statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { BACKUP_MANIFEST, type BackupManifest, readBackupManifest } from '../backup/files/backup-manifest.ts';
import type { BackupRun } from '../catalogue/backup-runs.ts';
import { PgbackmanError } from '../errors.ts';

/** A dump folder (or a file in it) as given on the command line: the folder itself. */
export function dumpFolderOf(path: string): string {
  const full = resolve(path);
  let isDir: boolean;
  try {
    isDir = statSync(full).isDirectory();
  } catch {
    throw new PgbackmanError('NOT_FOUND', `${path}: no such dump folder`);
  }
  // A directory-format dump's own directory (database.dir) sits inside the folder that holds backup.json.
  if (isDir && basename(full) !== 'database.dir') return full;
  return dirname(full);
}

/**
 * A dump as its folder's backup.json describes it, shaped as a catalogue row, so the restore executor, verify
 * and `catalogue import` read it as they read the catalogue's. Pure but for the paths it builds.
 */
export function runFromManifest(dir: string, m: BackupManifest): BackupRun {
  const sha256: Record<string, string | Record<string, string>> = {};
  // The dump's own size, as a run records it (not its roles and configuration files).
  let bytes = 0;
  for (const [name, entry] of Object.entries(m.files.written)) {
    const dump = name === m.files.dump;
    if ('sha256' in entry && typeof entry.sha256 === 'string') {
      sha256[name] = entry.sha256;
      if (dump) bytes += Number(entry.bytes);
    } else {
      const inner = entry as Readonly<Record<string, { bytes: number; sha256: string }>>;
      sha256[name] = Object.fromEntries(Object.entries(inner).map(([f, s]) => [f, s.sha256]));
      if (dump) for (const s of Object.values(inner)) bytes += s.bytes;
    }
  }
  const path = (name: string | null) => (name === null ? null : join(dir, name));
  return {
    id: m.runId,
    status: 'SUCCEEDED',
    server: m.server,
    node: m.node,
    database: m.database,
    code: m.code,
    definition: m.definition,
    snapshot: m.snapshot,
    startedAt: m.startedAt,
    finishedAt: m.finishedAt,
    durationMs: Date.parse(m.finishedAt) - Date.parse(m.startedAt),
    dumpBytes: bytes,
    dumpPath: join(dir, m.files.dump),
    logPath: join(dir, 'dump.log'),
    rolesPath: path(m.files.roles),
    configPath: path(m.files.config),
    sha256,
    pgDumpVersion: m.pgDumpVersion,
    serverVersion: m.serverVersion,
    databaseBytes: m.databaseBytes,
    retention: m.retention,
    error: null,
    deletedAt: null,
    deletion: null,
    deletedReason: null,
    pin: null,
    verifiedAt: null,
    verifyStatus: null,
    verifyError: null,
    tableEstimates: m.tables ?? null,
    sourceSystemIdentifier: m.systemIdentifier ?? null,
    restoreVerifiedAt: null,
    restoreVerifyStatus: null,
    restoreVerifyDetails: null,
    revision: m.revision,
    missed: null,
    encryption: m.encryption ?? null,
    rootCopy: 'KEPT',
  };
}

/** The dump in a folder, from its backup.json (checked as untrusted input: plain file names, known fields). */
export async function readDumpFolder(path: string): Promise<BackupRun> {
  const dir = dumpFolderOf(path);
  const manifest = await readBackupManifest(dir).catch((err: unknown) => {
    if (err instanceof PgbackmanError && err.code === 'NOT_FOUND')
      throw new PgbackmanError(
        'NOT_FOUND',
        `${dir} has no ${BACKUP_MANIFEST}: not a dump folder pgbackman wrote`,
      );
    throw err;
  });
  return runFromManifest(dir, manifest);
}
