import { ageRecipientProblem } from '../encryption/age-keys.ts';
import { checkDatabaseName, checkDuration, checkTimezone } from './check-values.ts';
import { checkExtraArg, PG_DUMP_OPTIONS, PG_DUMPALL_OPTIONS, PG_RESTORE_OPTIONS } from './extra-args.ts';
import type { Compression, DumpSettings, Encryption } from './generated/manifest-types.ts';
import { resolveSettings, type SettingOrigin, settingOrigin } from './resolve-settings.ts';
import type { ResourceOf } from './resource.ts';
import type { SemanticContext } from './semantic-context.ts';

type Report = SemanticContext['report'];

/** Checks that hold for any block of dump settings, whatever fills its gaps later (incl. `defaults`). */
export function checkSettings(report: Report, at: string, s: DumpSettings): void {
  if (s.timezone !== undefined) report(`${at}/timezone`, checkTimezone(s.timezone));
  if (s.retention?.period !== undefined) report(`${at}/retention/period`, checkDuration(s.retention.period));
  if (s.timeout !== undefined) report(`${at}/timeout`, checkDuration(s.timeout));
  if (s.compression !== undefined) report(`${at}/compression`, checkCompression(s.compression));
  checkArgs(report, `${at}/extraArgs`, s.extraArgs, s.code === 'CLUSTER' ? 'pg_dumpall' : 'pg_dump');
  if (s.jobs !== undefined && s.jobs > 1 && s.format !== undefined && s.format !== 'directory') {
    report(`${at}/jobs`, `jobs: ${s.jobs} needs format: directory; the format is ${s.format}`);
  }
  if (s.format === 'tar' && compressed(s.compression)) report(`${at}/compression`, tarCompression);
  if (s.encryption !== undefined) checkEncryption(report, `${at}/encryption`, s.encryption);
  if (s.encryption !== undefined && s.format === 'directory') report(`${at}/encryption`, directoryEncrypted);
}

/** Each recipient must be a public key age can encrypt to (its checksum included). */
export function checkEncryption(report: Report, at: string, e: Encryption): void {
  e.age.recipients.forEach((r, i) => {
    report(`${at}/age/recipients/${i}`, ageRecipientProblem(r));
  });
}

const directoryEncrypted =
  'an encrypted dump cannot use format: directory (pg_dump writes those files itself, in plaintext, before pgbackman could encrypt them); use custom, plain or tar';

/** A definition's or snapshot's settings once its node's and server's defaults are applied. */
export function checkDump(
  report: Report,
  own: DumpSettings,
  database: string | undefined,
  node: ResourceOf<'PgSQLNode'> | undefined,
  server: ResourceOf<'BackupServer'> | undefined,
): void {
  checkSettings(report, '/spec', own);
  const s = resolveSettings(own, node?.manifest, server?.manifest);
  const from = (field: keyof DumpSettings) =>
    origin(settingOrigin(field, own, node?.manifest, server?.manifest), node, server);
  const at = (field: keyof DumpSettings) => (own[field] === undefined ? '/spec' : `/spec/${field}`);
  if (s.code === 'CLUSTER') {
    if (database !== undefined)
      report(
        '/spec/database',
        `a CLUSTER dump${from('code')} covers the whole node (pg_dumpall); remove database, or choose FULL, SCHEMA or DATA`,
      );
    if (own.format !== undefined && own.format !== 'plain')
      report('/spec/format', 'a CLUSTER dump is plain SQL (pg_dumpall); remove format');
    if (own.jobs !== undefined && own.jobs > 1)
      report('/spec/jobs', 'a CLUSTER dump cannot use parallel jobs');
    return;
  }
  if (database === undefined)
    report('/spec', `missing required field "database" (a ${s.code} dump${from('code')} is of one database)`);
  else report('/spec/database', checkDatabaseName(database));
  if (
    s.jobs > 1 &&
    s.format !== 'directory' &&
    (own.jobs !== undefined || own.format !== undefined || from('jobs') !== from('format'))
  ) {
    report(
      at('jobs'),
      `jobs: ${s.jobs}${from('jobs')} needs format: directory; the format is ${s.format}${from('format')}`,
    );
  }
  if (
    s.encryption !== undefined &&
    s.format === 'directory' &&
    (own.encryption !== undefined || own.format !== undefined || from('encryption') !== from('format'))
  )
    report(
      at(own.format !== undefined ? 'format' : 'encryption'),
      `${directoryEncrypted}; the format is ${s.format}${from('format')} and the encryption${from('encryption')}`,
    );
  if (
    s.format === 'tar' &&
    compressed(s.compression) &&
    (own.format !== undefined || own.compression !== undefined)
  ) {
    report(at('compression'), tarCompression);
  }
}

const tarCompression =
  'format tar cannot be compressed by pg_dump; remove compression or choose another format';

function compressed(c: Compression | undefined): boolean {
  return c !== undefined && c !== 0 && c !== 'none' && !/^[a-z0-9]+:0$/.test(String(c));
}

function origin(
  o: SettingOrigin,
  node: ResourceOf<'PgSQLNode'> | undefined,
  server: ResourceOf<'BackupServer'> | undefined,
): string {
  switch (o) {
    case 'own':
      return '';
    case 'node':
      return ` (from PgSQLNode/${node?.name} spec.defaults)`;
    case 'server':
      return ` (from BackupServer/${server?.name} spec.defaults)`;
    case 'server-spec':
      return ` (from BackupServer/${server?.name} spec.encryption)`;
    case 'builtin':
      return ' (the default)';
  }
}

const LEVELS: Readonly<Record<string, [number, number]>> = { gzip: [1, 9], lz4: [1, 12], zstd: [1, 22] };

/** pg_dump's compression levels per method (pg_dump 16 and newer accept methods). */
export function checkCompression(c: Compression): string | undefined {
  if (typeof c === 'number') return undefined;
  const [method = '', level] = c.split(':');
  if (level === undefined) return undefined;
  if (method === 'none') return 'compression "none" takes no level';
  const [min, max] = LEVELS[method] ?? [0, 0];
  const n = Number(level);
  return n >= min && n <= max
    ? undefined
    : `compression level ${n} is out of range for ${method} (${min}-${max})`;
}

export function checkArgs(
  report: Report,
  at: string,
  args: readonly string[] | undefined,
  tool: 'pg_dump' | 'pg_dumpall' | 'pg_restore',
): void {
  const allowed =
    tool === 'pg_dump' ? PG_DUMP_OPTIONS : tool === 'pg_dumpall' ? PG_DUMPALL_OPTIONS : PG_RESTORE_OPTIONS;
  for (const [i, arg] of (args ?? []).entries()) report(`${at}/${i}`, checkExtraArg(arg, allowed, tool));
}
