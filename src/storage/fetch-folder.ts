import { randomBytes } from 'node:crypto';
import { mkdir, open, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { BACKUP_MANIFEST, checkBackupManifest, writtenFiles } from '../backup/files/backup-manifest.ts';
import { messageOf, PgbackmanError } from '../errors.ts';
import type { StorageDestination } from '../manifest/generated/manifest-types.ts';
import { isAllowed, parseAllowedDestinations } from './allowed-destinations.ts';
import { checkKey, type Destination } from './destination.ts';
import { readSmall } from './import-copies.ts';
import { lazyS3Destination } from './lazy-s3-destination.ts';
import { openDestination } from './open-destination.ts';

/** The most files a dump folder may have: a directory-format dump of 100,000 tables, and some. */
const MAX_FILES = 250_000;

/** Whether a `--from` names a folder in a bucket rather than on disk. */
export const isBucketUrl = (from: string): boolean => /^s3(\+https?)?:\/\//.test(from);

const withSlash = (p: string) => (p === '' || p.endsWith('/') ? p : `${p}/`);

/**
 * The dump folder at `url` (s3://BUCKET/PREFIX/FOLDER or s3+https://HOST/BUCKET/PREFIX/FOLDER), fetched whole
 * into a new directory under `under`, which is returned (the caller removes it). Its store is reached as the
 * catalogue's server destination holding it says (region, endpoint, credentialsFrom) when one does; else
 * with the SDK's default chain (AWS_ACCESS_KEY_ID…, AWS_REGION). Keys that are not plain paths are never
 * fetched; the folder is read as untrusted, as any `--from` folder, and re-hashed before a restore.
 */
export async function fetchFolder(
  url: string,
  under: string,
  ctx: {
    readonly env: NodeJS.ProcessEnv;
    readonly secretsDir: string;
    readonly destinations: readonly StorageDestination[];
  },
): Promise<string> {
  const [place] = parseAllowedDestinations([url]);
  if (place?.kind !== 's3' || place.prefix.replace(/\/$/, '') === '')
    throw new PgbackmanError(
      'USAGE',
      `--from ${url}: name a dump folder in the bucket, not the bucket itself`,
    );
  const prefix = withSlash(place.prefix);
  const at = {
    s3: { bucket: place.bucket, prefix, ...(place.endpoint === null ? {} : { endpoint: place.endpoint }) },
  };
  const known = ctx.destinations.find((d) => {
    if (d.s3 === undefined) return false;
    const its = `${d.s3.endpoint === undefined ? 's3://' : `s3+${d.s3.endpoint.replace(/\/$/, '')}/`}${d.s3.bucket}/${d.s3.prefix ?? ''}`;
    return isAllowed(parseAllowedDestinations([its]), at);
  });
  const dest: Destination =
    known?.s3 !== undefined
      ? openDestination({ ...known, s3: { ...known.s3, prefix } }, ctx.env, ctx.secretsDir)
      : lazyS3Destination(
          '--from',
          {
            ...(place.endpoint === null ? {} : { endpoint: place.endpoint, forcePathStyle: true }),
            region: ctx.env.AWS_REGION || ctx.env.AWS_DEFAULT_REGION || 'us-east-1',
            bucket: place.bucket,
            prefix,
          },
          {},
        );
  const into = join(under, `from-${randomBytes(6).toString('hex')}`);
  try {
    const keys = await dest.list(MAX_FILES);
    if (!keys.includes(BACKUP_MANIFEST))
      throw new PgbackmanError(
        'NOT_FOUND',
        `${url} holds no ${BACKUP_MANIFEST}: not a dump folder pgbackman copied (or its copy is incomplete: ${BACKUP_MANIFEST} is sent last)`,
      );
    // A key that is not a plain relative path is never written anywhere: the whole folder is refused.
    for (const key of keys) checkKey(key);
    await checkListed(dest, url, keys);
    await mkdir(into, { recursive: true, mode: 0o700 });
    for (const key of keys) {
      const path = join(into, ...key.split('/'));
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      const out = await open(path, 'wx', 0o600);
      try {
        for await (const chunk of await dest.get(key)) await out.write(chunk as Buffer);
      } finally {
        await out.close();
      }
    }
    return into;
  } catch (err) {
    await rm(into, { recursive: true, force: true });
    throw err;
  } finally {
    dest.close();
  }
}

/** Before anything is fetched: every file backup.json lists is in the bucket, of the size it says. */
async function checkListed(dest: Destination, url: string, keys: readonly string[]): Promise<void> {
  const text = await readSmall(dest, BACKUP_MANIFEST, undefined);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.toString('utf8'));
  } catch (err) {
    throw new PgbackmanError('INVALID_INPUT', `${url}/${BACKUP_MANIFEST}: not valid JSON: ${messageOf(err)}`);
  }
  const m = checkBackupManifest(parsed, `${url}/${BACKUP_MANIFEST}`);
  for (const [file, sum] of writtenFiles(m.files.written)) {
    const facts = keys.includes(file) ? await dest.head(file) : null;
    if (facts === null)
      throw new PgbackmanError(
        'NOT_FOUND',
        `${url}: its ${BACKUP_MANIFEST} lists ${file}, which the bucket does not hold (a copy cut short, or changed); nothing was fetched`,
      );
    if (facts.bytes !== sum.bytes)
      throw new PgbackmanError(
        'INVALID_INPUT',
        `${url}: its ${BACKUP_MANIFEST} lists ${file} of ${sum.bytes} bytes; the bucket holds ${facts.bytes}; nothing was fetched`,
      );
  }
}
