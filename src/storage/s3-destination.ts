import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Readable } from 'node:stream';

// The SDK warns on every Node older than 22 about its releases after January 2027: not the user's concern here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { PgbackmanError } from '../errors.ts';
import { linkSignals } from '../system/link-signals.ts';
import {
  checkKey,
  type Destination,
  discardBody,
  type ObjectFacts,
  type PutBody,
  type StoredObject,
} from './destination.ts';
import { s3Where } from './lazy-s3-destination.ts';
import { uploadStream } from './s3-upload.ts';
import { storageError } from './storage-error.ts';

export interface S3Settings {
  /** An S3-compatible endpoint (`https://s3.example.net`); AWS's own for the region when absent. */
  readonly endpoint?: string;
  readonly region: string;
  readonly bucket: string;
  /** Prepended to every key; ends with `/` when it names a folder. */
  readonly prefix?: string;
  readonly forcePathStyle?: boolean;
  readonly storageClass?: string;
}

export interface S3Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface S3Options {
  /** Without them, the SDK's default chain: environment, shared files, instance or container roles. */
  readonly credentials?: S3Credentials;
  /** Connecting, and each request's wait for an answer; defaults 10 s and 120 s. */
  readonly connectTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  /** Tries of each call (the SDK's standard retry mode: exponential backoff with jitter); default 5. */
  readonly maxAttempts?: number;
  /** Multipart: the smallest part (at least 5 MiB; larger for a large expected size); memory is two parts. */
  readonly partBytes?: number;
}

/** S3 takes at most this many parts in one upload, each at most 5 GiB. */
const MAX_PARTS = 10_000;
const MAX_PART_BYTES = 5 * 1024 ** 3;
const MIB = 1024 * 1024;

/**
 * The part size of an upload whose length is not known when it starts (a dump as pg_dump writes it): 5 MiB
 * (S3's smallest), or larger when `expectedBytes` says the object may need more than 10,000 such parts
 * (48 GiB); sized for three times what is expected (a plain dump can outgrow its database), in whole MiB.
 * Memory is two parts (one sent, one filling). Pure.
 */
export function partSizeFor(expectedBytes: number | undefined, base = 5 * MIB): number {
  if (expectedBytes === undefined || !Number.isFinite(expectedBytes) || expectedBytes <= 0) return base;
  const needed = Math.ceil((expectedBytes * 3) / MAX_PARTS / MIB) * MIB;
  return Math.min(MAX_PART_BYTES, Math.max(base, needed));
}

/** What a 404 on an object means once the bucket itself answered 404 too. */
const NO_BUCKET = Object.assign(new Error('The specified bucket does not exist'), {
  name: 'NoSuchBucket',
  $metadata: { httpStatusCode: 404 },
});

/** A bucket and prefix of an S3-compatible store. */
export function s3Destination(name: string, settings: S3Settings, options: S3Options = {}): Destination {
  // Its own sockets: close() destroys them, a request the store holds unanswered included (the SDK's
  // destroy only drops idle ones, and such a request would hold the process open for its whole timeout).
  const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 50 });
  const httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 50 });
  const client = new S3Client({
    region: settings.region,
    ...(settings.endpoint === undefined ? {} : { endpoint: settings.endpoint }),
    forcePathStyle: settings.forcePathStyle ?? false,
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    maxAttempts: options.maxAttempts ?? 5,
    requestHandler: {
      connectionTimeout: options.connectTimeoutMs ?? 10_000,
      requestTimeout: options.requestTimeoutMs ?? 120_000,
      // Without it the SDK only logs a warning and waits on for an answer that may never come.
      throwOnRequestTimeout: true,
      httpAgent,
      httpsAgent,
    },
  });
  // A request cut by close() would be retried by the SDK on a new socket, after a backoff timer that holds the
  // process open: close() aborts every call first (the SDK retries nothing aborted), and nothing is sent after.
  const closing = new AbortController();
  client.middlewareStack.add(
    (next) => async (args) => {
      if (closing.signal.aborted) throw new PgbackmanError('INTERRUPTED', `destination ${name} was closed`);
      return next(args);
    },
    { step: 'deserialize', name: 'pgbackmanClosedDestination' },
  );
  /** Runs one call with a signal that also fires on close(). */
  const closable = async <T>(
    signal: AbortSignal | undefined,
    call: (s: AbortSignal) => Promise<T>,
  ): Promise<T> => {
    const linked = linkSignals(closing.signal, signal);
    try {
      return await call(linked.signal);
    } finally {
      linked.release();
    }
  };

  const prefix = settings.prefix ?? '';
  const where = s3Where(settings);
  const fail = (what: string, err: unknown) => storageError(err, `${name} (${where})`, what);
  const Bucket = settings.bucket;
  const keyOf = (key: string) => `${prefix}${checkKey(key)}`;
  /** A 404 on an object may mean the bucket is gone: asked once, so the message says which. */
  const bucketMissing = async (signal?: AbortSignal) =>
    closable(signal, (abortSignal) => client.send(new HeadBucketCommand({ Bucket }), { abortSignal })).then(
      () => false,
      (err: unknown) =>
        (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404,
    );

  return {
    name,
    kind: 's3',
    where,
    async put(
      key: string,
      body: PutBody,
      signal?: AbortSignal,
      expectedBytes?: number,
    ): Promise<StoredObject> {
      const Key = keyOf(key);
      const linked = linkSignals(closing.signal, signal);
      try {
        return {
          key,
          ...(await uploadStream(
            {
              client,
              Bucket,
              Key,
              storageClass: settings.storageClass,
              partBytes: partSizeFor(expectedBytes, options.partBytes),
            },
            body,
            linked.signal,
          )),
        };
      } catch (err) {
        discardBody(body);
        if (linked.signal.aborted)
          throw new PgbackmanError(
            'INTERRUPTED',
            `upload of ${Key} to ${name} stopped: ${String(linked.signal.reason)}`,
          );
        throw fail(`upload ${Key}`, err);
      } finally {
        linked.release();
      }
    },
    async head(key: string, signal?: AbortSignal): Promise<ObjectFacts | null> {
      const Key = keyOf(key);
      try {
        const h = await closable(signal, (abortSignal) =>
          client.send(new HeadObjectCommand({ Bucket, Key }), { abortSignal }),
        );
        return { bytes: h.ContentLength ?? 0, etag: h.ETag?.replaceAll('"', '') ?? null };
      } catch (err) {
        const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        if (status === 404 && !(await bucketMissing(signal))) return null;
        throw fail(`read the size of ${Key}`, status === 404 ? NO_BUCKET : err);
      }
    },
    async get(key: string, signal?: AbortSignal): Promise<Readable> {
      const Key = keyOf(key);
      const linked = linkSignals(closing.signal, signal);
      try {
        const g = await client.send(new GetObjectCommand({ Bucket, Key }), {
          abortSignal: linked.signal,
        });
        const body = g.Body as Readable;
        // The body streams on after the call: the link holds until it is read or dropped.
        body.once('close', linked.release);
        return body;
      } catch (err) {
        linked.release();
        const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        if (status === 404 && !(await bucketMissing(signal)))
          throw new PgbackmanError('NOT_FOUND', `${name} (${where}) holds no ${Key}`);
        throw fail(`read ${Key}`, status === 404 ? NO_BUCKET : err);
      }
    },
    async list(limit: number, signal?: AbortSignal): Promise<string[]> {
      const keys: string[] = [];
      let ContinuationToken: string | undefined;
      const linked = linkSignals(closing.signal, signal);
      try {
        do {
          const page = await client.send(
            new ListObjectsV2Command({ Bucket, Prefix: prefix, ContinuationToken }),
            { abortSignal: linked.signal },
          );
          for (const o of page.Contents ?? []) {
            const key = o.Key?.slice(prefix.length);
            if (key !== undefined && key !== '') keys.push(key);
            if (keys.length >= limit) return keys.sort();
          }
          ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
        } while (ContinuationToken !== undefined);
      } catch (err) {
        throw fail(`list ${prefix === '' ? 'the bucket' : prefix}`, err);
      } finally {
        linked.release();
      }
      return keys.sort();
    },
    async delete(key: string, signal?: AbortSignal): Promise<void> {
      const Key = keyOf(key);
      try {
        await closable(signal, (abortSignal) =>
          client.send(new DeleteObjectCommand({ Bucket, Key }), { abortSignal }),
        );
      } catch (err) {
        throw fail(`delete ${Key}`, err);
      }
    },
    close: () => {
      closing.abort(new PgbackmanError('INTERRUPTED', `destination ${name} was closed`));
      client.destroy();
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}
