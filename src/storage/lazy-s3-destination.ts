import { PgbackmanError } from '../errors.ts';
import { type Destination, discardBody } from './destination.ts';
import type { S3Options, S3Settings } from './s3-destination.ts';

/** Where a bucket destination is, for messages and records: `s3://bucket/prefix/ at https://endpoint`. */
export function s3Where(settings: S3Settings): string {
  const at = settings.endpoint === undefined ? '' : ` at ${settings.endpoint}`;
  return `s3://${settings.bucket}/${settings.prefix ?? ''}${at}`;
}

/**
 * A bucket destination whose AWS SDK is loaded at its first call: the SDK costs a process about 20 MiB
 * (measured), and a run, a verify or an agent whose storage names a bucket may never reach it.
 */
export function lazyS3Destination(name: string, settings: S3Settings, options: S3Options): Destination {
  let opened: Promise<Destination> | undefined;
  let closed = false;
  const open = async (): Promise<Destination> => {
    if (closed) throw new PgbackmanError('INTERRUPTED', `destination ${name} was closed`);
    opened ??= import('./s3-destination.ts').then((m) => m.s3Destination(name, settings, options));
    return opened;
  };
  return {
    name,
    kind: 's3',
    where: s3Where(settings),
    put: async (key, body, signal, expectedBytes) => {
      const d = await open().catch((err: unknown) => {
        // Nobody reads it now: a tee waiting on it must not wait for ever.
        discardBody(body);
        throw err;
      });
      return d.put(key, body, signal, expectedBytes);
    },
    head: async (key, signal) => (await open()).head(key, signal),
    get: async (key, signal) => (await open()).get(key, signal),
    list: async (limit, signal) => (await open()).list(limit, signal),
    delete: async (key, signal) => (await open()).delete(key, signal),
    close: () => {
      closed = true;
      void opened?.then((d) => d.close());
    },
  };
}
