import { createHash } from 'node:crypto';
import { join, relative, sep } from 'node:path';
import { BACKUP_MANIFEST, checkBackupManifest, writtenFiles } from '../backup/files/backup-manifest.ts';
import { dumpLayout, rootDirectoryOf } from '../backup/files/layout.ts';
import type { BackupRun } from '../catalogue/backup-runs.ts';
import type { CopiedFile, DumpCopy } from '../catalogue/dump-copies.ts';
import { messageOf, PgbackmanError } from '../errors.ts';
import type { SpecOf } from '../manifest/kinds.ts';
import { runFromManifest } from '../restore/dump-folder.ts';
import { checkKey, type Destination, isSafeKey } from './destination.ts';

/** The most keys read from one destination: about 150,000 dump folders. */
const MAX_KEYS = 1_000_000;
/** backup.json's own limit, and the largest log read whole to record its checksum. */
const MAX_SMALL_BYTES = 64 * 1024 * 1024;
/** A server's root holds <node>/<database>/<run>/: a backup.json deeper than this was not put there by a copy. */
const MAX_DEPTH = 6;

/** One dump folder found at a destination: its run and its copy there, or why it cannot be imported. */
export type FoundCopy =
  | { readonly folder: string; readonly run: BackupRun; readonly copy: DumpCopy }
  | { readonly folder: string; readonly error: string };

/**
 * The dump folders a destination of `server` holds (each with a backup.json, which a copy sends last), read
 * as untrusted: backup.json checked as `catalogue import` checks one on disk, every file it lists present
 * with its size. Each becomes the run it describes, its dump where the server's root would hold it (a restore
 * then fetches this copy), and the copy's record, so retention, verify and restores know it is there.
 */
export async function findCopies(
  dest: Destination,
  serverName: string,
  server: SpecOf<'BackupServer'>,
  signal?: AbortSignal,
): Promise<FoundCopy[]> {
  const keys = await dest.list(MAX_KEYS, signal);
  const present = new Set(keys);
  const folders = keys
    .filter((k) => k.endsWith(`/${BACKUP_MANIFEST}`) && k.split('/').length <= MAX_DEPTH + 1)
    .map((k) => k.slice(0, -(BACKUP_MANIFEST.length + 1)));
  const found: FoundCopy[] = [];
  for (const folder of folders) {
    try {
      checkKey(`${folder}/${BACKUP_MANIFEST}`);
      const odd = keys.find((k) => k.startsWith(`${folder}/`) && !isSafeKey(k));
      if (odd !== undefined) checkKey(odd);
      found.push({ folder, ...(await readCopy(dest, folder, keys, present, serverName, server, signal)) });
    } catch (err) {
      if (signal?.aborted) throw err;
      found.push({ folder, error: messageOf(err) });
    }
  }
  return found;
}

async function readCopy(
  dest: Destination,
  folder: string,
  keys: readonly string[],
  present: ReadonlySet<string>,
  serverName: string,
  server: SpecOf<'BackupServer'>,
  signal: AbortSignal | undefined,
): Promise<{ run: BackupRun; copy: DumpCopy }> {
  // `s3://bucket/prefix/ at https://endpoint`: the folder goes after the prefix, the endpoint stays last.
  const [base = dest.where, endpoint] = dest.where.split(' at ');
  const inside = (path: string) =>
    dest.kind === 'local'
      ? join(base, ...path.split('/'))
      : `${base}${path}${endpoint === undefined ? '' : ` at ${endpoint}`}`;
  const where = inside(`${folder}/${BACKUP_MANIFEST}`);
  const text = await readSmall(dest, `${folder}/${BACKUP_MANIFEST}`, signal);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.toString('utf8'));
  } catch (err) {
    throw new PgbackmanError('INVALID_INPUT', `${where}: not valid JSON: ${messageOf(err)}`);
  }
  const m = checkBackupManifest(parsed, where);
  if (m.server !== serverName)
    throw new PgbackmanError(
      'INVALID_INPUT',
      `${where}: its dump was taken by BackupServer ${m.server}, not ${serverName}, whose storage lists this destination`,
    );
  // The folder is where a run of what backup.json says would be: a folder that claims another node, database
  // or definition than its place (a run made up to count toward a definition's redundancy) is not imported.
  const root = rootDirectoryOf(server);
  const expected = relative(
    root,
    dumpLayout(
      root,
      m.node,
      m.database ?? undefined,
      m.code,
      m.definition ?? m.snapshot ?? '',
      new Date(m.startedAt),
      m.runId,
    ).dir,
  )
    .split(sep)
    .join('/');
  if (expected !== folder)
    throw new PgbackmanError(
      'INVALID_INPUT',
      `${where}: describes a run that would be in ${expected}/, not in ${folder}/: not a copy pgbackman made`,
    );
  const run = runFromManifest(join(root, ...folder.split('/')), m);
  // Each file backup.json lists must be there, of its size: a copy cut short is not one to restore from.
  const files: Record<string, CopiedFile> = {};
  for (const [file, sum] of writtenFiles(m.files.written)) {
    const facts = present.has(`${folder}/${file}`) ? await dest.head(`${folder}/${file}`, signal) : null;
    if (facts === null)
      throw new PgbackmanError('NOT_FOUND', `${where}: lists ${file}, which the destination does not hold`);
    if (facts.bytes !== sum.bytes)
      throw new PgbackmanError(
        'INVALID_INPUT',
        `${where}: lists ${file} of ${sum.bytes} bytes; the destination holds ${facts.bytes}`,
      );
    files[file] = { bytes: sum.bytes, sha256: sum.sha256, etag: facts.etag, versionId: null };
  }
  // The folder's other files (backup.json, the logs): hashed here, so retention removes them with the rest.
  for (const key of keys.filter((k) => k.startsWith(`${folder}/`))) {
    const file = key.slice(folder.length + 1);
    if (files[file] !== undefined || file.includes('/')) continue;
    const bytes = file === BACKUP_MANIFEST ? text : await readSmall(dest, key, signal);
    const facts = await dest.head(key, signal);
    files[file] = {
      bytes: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      etag: facts?.etag ?? null,
      versionId: null,
    };
  }
  const location = inside(dest.kind === 'local' ? folder : `${folder}/`);
  return {
    run,
    copy: {
      runId: run.id,
      destination: dest.name,
      kind: dest.kind,
      location,
      status: 'COPIED',
      bytes: Object.values(files).reduce((n, f) => n + f.bytes, 0),
      files,
      error: null,
      finishedAt: new Date().toISOString(),
    },
  };
}

/** A small object read whole (backup.json, a log), refused past 64 MiB. */
export async function readSmall(
  dest: Destination,
  key: string,
  signal: AbortSignal | undefined,
): Promise<Buffer> {
  const facts = await dest.head(key, signal);
  if (facts !== null && facts.bytes > MAX_SMALL_BYTES)
    throw new PgbackmanError(
      'INVALID_INPUT',
      `${key} holds ${facts.bytes} bytes, more than the ${MAX_SMALL_BYTES} pgbackman reads of it`,
    );
  const parts: Buffer[] = [];
  let n = 0;
  for await (const chunk of await dest.get(key, signal)) {
    n += (chunk as Buffer).length;
    if (n > MAX_SMALL_BYTES)
      throw new PgbackmanError(
        'INVALID_INPUT',
        `${key} is larger than the ${MAX_SMALL_BYTES} bytes pgbackman reads of it`,
      );
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts);
}
