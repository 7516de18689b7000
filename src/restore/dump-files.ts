import { basename } from 'node:path';
import { type BackupRun, isGoodRun } from '../catalogue/backup-runs.ts';
import { isEncryptedName, plainName } from '../encryption/dump-encryption.ts';
import { PgbackmanError } from '../errors.ts';
import type { DumpFacts, DumpFormat } from './restore-steps.ts';

const FORMAT_BY_FILE: Readonly<Record<string, DumpFormat>> = {
  'database.dump': 'custom',
  'database.dir': 'directory',
  'database.sql': 'plain',
  'database.tar': 'tar',
  'cluster.sql': 'plain',
};

/** A catalogued dump's facts for a restore: what it holds and in which format, read from its record. */
export function dumpFactsOf(
  b: BackupRun,
): DumpFacts & { readonly path: string; readonly encrypted: boolean } {
  if (!isGoodRun(b.status) || b.dumpPath === null)
    throw new PgbackmanError(
      'INVALID_INPUT',
      `backup ${b.id} is ${b.status}${b.error === null ? '' : ` (${b.error})`}: there is no dump to restore`,
    );
  if (b.deletion !== null)
    throw new PgbackmanError(
      'INVALID_INPUT',
      `backup ${b.id} is ${b.deletion} by retention: its files may be gone`,
    );
  const format = FORMAT_BY_FILE[plainName(basename(b.dumpPath))];
  if (format === undefined)
    throw new PgbackmanError('INVALID_INPUT', `backup ${b.id}: ${b.dumpPath} is not a file pgbackman writes`);
  return {
    code: b.code as DumpFacts['code'],
    format,
    hasRoles: b.rolesPath !== null,
    hasConfig: b.configPath !== null,
    path: b.dumpPath,
    encrypted: b.encryption !== null || isEncryptedName(b.dumpPath),
  };
}
