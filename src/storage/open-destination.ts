import { readPasswordFile } from '../backup/dump/read-password-file.ts';
import { PgbackmanError } from '../errors.ts';
import type { StorageDestination } from '../manifest/generated/manifest-types.ts';
import type { Destination } from './destination.ts';
import { lazyS3Destination } from './lazy-s3-destination.ts';
import { localDestination } from './local-destination.ts';
import type { S3Credentials } from './s3-destination.ts';

/** The only variables credentialsFrom.env may name, as for passwordFrom.env: the operator decides which exist. */
const SECRET_VARIABLE = /^PGBACKMAN_SECRET_[A-Za-z0-9_]{1,111}$/;

/**
 * A manifest's destination, ready to use: its S3 key from the agent's environment or a secrets file (the
 * same rules as passwordFrom), never from the manifest; without credentialsFrom, the SDK's default chain.
 */
export function openDestination(
  d: StorageDestination,
  env: NodeJS.ProcessEnv,
  secretsDir: string,
): Destination {
  if (d.local !== undefined) return localDestination(d.name, d.local.path);
  if (d.s3 === undefined)
    throw new PgbackmanError('INVALID_INPUT', `destination ${d.name} has neither local nor s3`);
  const credentials = credentialsOf(d, env, secretsDir);
  return lazyS3Destination(
    d.name,
    {
      region: d.s3.region,
      bucket: d.s3.bucket,
      ...(d.s3.endpoint === undefined ? {} : { endpoint: d.s3.endpoint.replace(/\/$/, '') }),
      ...(d.s3.prefix === undefined ? {} : { prefix: d.s3.prefix }),
      ...(d.s3.forcePathStyle === undefined ? {} : { forcePathStyle: d.s3.forcePathStyle }),
      ...(d.s3.storageClass === undefined ? {} : { storageClass: d.s3.storageClass }),
    },
    credentials === undefined ? {} : { credentials },
  );
}

function credentialsOf(
  d: StorageDestination,
  env: NodeJS.ProcessEnv,
  secretsDir: string,
): S3Credentials | undefined {
  const from = d.credentialsFrom;
  if (from === undefined) return undefined;
  if (from.env !== undefined) {
    const read = (variable: string | undefined) => {
      if (variable === undefined) return undefined;
      if (!SECRET_VARIABLE.test(variable))
        throw new PgbackmanError(
          'UNSAFE',
          `refusing destination ${d.name}'s credential variable ${variable}: only PGBACKMAN_SECRET_<NAME> variables may be named`,
        );
      const value = env[variable];
      if (value === undefined || value === '')
        throw new PgbackmanError(
          'NOT_FOUND',
          `destination ${d.name}'s credential variable ${variable} is not set in this process`,
        );
      return value;
    };
    const sessionToken = read(from.env.sessionToken);
    return {
      accessKeyId: read(from.env.accessKeyId) as string,
      secretAccessKey: read(from.env.secretAccessKey) as string,
      ...(sessionToken === undefined ? {} : { sessionToken }),
    };
  }
  if (from.file === undefined) return undefined;
  const text = readPasswordFile(from.file, secretsDir, `destination ${d.name}'s credentials file`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const c = parsed as
    | Partial<Record<'accessKeyId' | 'secretAccessKey' | 'sessionToken', unknown>>
    | undefined;
  if (typeof c?.accessKeyId !== 'string' || typeof c.secretAccessKey !== 'string')
    // The file's content is never quoted: it holds a secret.
    throw new PgbackmanError(
      'INVALID_INPUT',
      `destination ${d.name}'s credentials file ${from.file} is not JSON with string fields accessKeyId and secretAccessKey`,
    );
  return {
    accessKeyId: c.accessKeyId,
    secretAccessKey: c.secretAccessKey,
    ...(typeof c.sessionToken === 'string' ? { sessionToken: c.sessionToken } : {}),
  };
}
