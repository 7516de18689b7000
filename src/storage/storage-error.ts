import { PgbackmanError } from '../errors.ts';

/** S3 error names that mean the answer will not change until someone changes the credentials or the bucket. */
const REFUSED = new Set([
  'AccessDenied',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'InvalidToken',
  'NoSuchBucket',
  'AllBucketsLimitExceeded',
  'InvalidBucketName',
  'PermanentRedirect',
  'AuthorizationHeaderMalformed',
  'CredentialsProviderError',
]);

/** What a storage call's failure means to the caller: a PgbackmanError whose code says whether to try later. */
export function storageError(err: unknown, destination: string, what: string): PgbackmanError {
  if (err instanceof PgbackmanError) return err;
  const e = err as {
    name?: string;
    message?: string;
    code?: string;
    $metadata?: { httpStatusCode?: number };
  };
  const status = e.$metadata?.httpStatusCode;
  const detail = `${e.name ?? 'Error'}${status === undefined ? '' : ` (HTTP ${status})`}: ${e.message ?? String(err)}`;
  if (e.name === 'TimeoutError' || e.code === 'ETIMEDOUT' || e.name === 'RequestTimeout')
    return new PgbackmanError('STORAGE_UNREACHABLE', `${destination}: could not ${what} in time: ${detail}`, {
      cause: err,
    });
  const refused =
    REFUSED.has(e.name ?? '') ||
    status === 401 ||
    status === 403 ||
    (status === 404 && e.name === 'NotFound' && what.startsWith('upload'));
  if (refused) {
    const why =
      e.name === 'NoSuchBucket' || status === 404
        ? 'the bucket does not exist'
        : status === 401 || status === 403 || REFUSED.has(e.name ?? '')
          ? 'the credentials were refused or lack the permission'
          : 'it refused';
    return new PgbackmanError('STORAGE_REFUSED', `${destination}: could not ${what}: ${why}: ${detail}`, {
      cause: err,
    });
  }
  return new PgbackmanError('STORAGE_UNREACHABLE', `${destination}: could not ${what}: ${detail}`, {
    cause: err,
  });
}
