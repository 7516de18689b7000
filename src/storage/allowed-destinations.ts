import { isAbsolute, normalize } from 'node:path';
import { PgbackmanError } from '../errors.ts';

/**
 * Where the agent's operator lets dumps go (`--allow-destination`, `PGBACKMAN_ALLOWED_DESTINATIONS`): a
 * manifest merged by pull request must not send a copy of every dump to a bucket or a directory of its
 * author's choosing, so a destination outside these is refused, as a secret outside --secrets-dir is.
 */
export type AllowedDestination =
  | { readonly kind: 'local'; readonly path: string }
  | {
      readonly kind: 's3';
      readonly endpoint: string | null;
      readonly bucket: string;
      readonly prefix: string;
    };

/** A destination as the manifests name it: the parts an allow-list entry is compared with. */
export type NamedDestination =
  | { readonly local: { readonly path: string } }
  | { readonly s3: { readonly endpoint?: string; readonly bucket: string; readonly prefix?: string } };

/** An endpoint compared by origin: scheme, lowercase host, and the port only when it is not the default. */
function originOf(endpoint: string): string {
  const url = new URL(endpoint);
  return url.origin.toLowerCase();
}

const withSlash = (p: string) => (p === '' || p.endsWith('/') ? p : `${p}/`);

/**
 * Each entry: an absolute directory (`/mnt/offsite`), `s3://BUCKET[/PREFIX]` for AWS's own endpoints, or
 * `s3+https://HOST[:PORT]/BUCKET[/PREFIX]` (`s3+http://` too) for another S3-compatible store.
 */
export function parseAllowedDestinations(entries: readonly string[]): AllowedDestination[] {
  return entries
    .map((e) => e.trim())
    .filter((e) => e !== '')
    .map((entry): AllowedDestination => {
      if (isAbsolute(entry)) return { kind: 'local', path: withSlash(normalize(entry)) };
      // Keys never ride in a URL (they would land in shell history and logs): refused, and not repeated.
      if (/^s3(\+https?)?:\/\/[^/]*@/.test(entry))
        throw new PgbackmanError(
          'USAGE',
          "a bucket URL must not hold a user or password (s3+https://KEY:SECRET@…): keys come from the destination's credentialsFrom, or the AWS SDK's environment (AWS_ACCESS_KEY_ID, …)",
        );
      const m = /^(s3|s3\+https?):\/\/([^/]+)(?:\/([^/]+))?(?:\/(.*))?$/.exec(entry);
      if (m !== null) {
        const [, scheme, first, second, rest] = m;
        if (scheme === 's3')
          return {
            kind: 's3',
            endpoint: null,
            bucket: first as string,
            prefix: [second, rest].filter((x) => x !== undefined).join('/'),
          };
        if (second !== undefined)
          return {
            kind: 's3',
            endpoint: originOf(`${(scheme as string).slice(3)}://${first}`),
            bucket: second,
            prefix: rest ?? '',
          };
      }
      throw new PgbackmanError(
        'USAGE',
        `allowed destination ${JSON.stringify(entry)}: expected an absolute directory, s3://BUCKET[/PREFIX] or s3+https://HOST[:PORT]/BUCKET[/PREFIX]`,
      );
    });
}

/** Whether `destination` lies inside one of `allowed`: the same directory or below, the same bucket and prefix or below. */
export function isAllowed(allowed: readonly AllowedDestination[], destination: NamedDestination): boolean {
  if ('local' in destination) {
    const path = withSlash(normalize(destination.local.path));
    return allowed.some((a) => a.kind === 'local' && path.startsWith(a.path));
  }
  const { endpoint, bucket, prefix = '' } = destination.s3;
  const origin = endpoint === undefined ? null : originOf(endpoint);
  return allowed.some(
    (a) =>
      a.kind === 's3' &&
      a.endpoint === origin &&
      a.bucket === bucket &&
      (a.prefix === '' || withSlash(prefix).startsWith(withSlash(a.prefix))),
  );
}
