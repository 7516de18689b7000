import type { Readable } from 'node:stream';
import { PgbackmanError } from '../errors.ts';

/** What a destination holds under a key once a put has finished: as it was sent, and as the store names it. */
export interface StoredObject {
  readonly key: string;
  readonly bytes: number;
  readonly sha256: string;
  /** The store's own tag (S3's ETag, without quotes); null for a local directory. */
  readonly etag: string | null;
  /** The object's version where the bucket keeps versions; null otherwise. */
  readonly versionId: string | null;
}

/**
 * A put's bytes: a stream, or chunks whose writer reuses each buffer once the destination asks for the next
 * (a Handoff). Either way a destination is done with a chunk before it takes the next one.
 */
export type PutBody = Readable | AsyncIterable<Buffer>;

/** Stops a put's body when nobody will read it any more, whatever kind it is. */
export function discardBody(body: PutBody, err?: Error): void {
  if ('destroy' in body && typeof body.destroy === 'function') body.destroy(err);
}

/** What a destination says of a key without reading it. */
export interface ObjectFacts {
  readonly bytes: number;
  readonly etag: string | null;
}

/**
 * One place dumps are kept: a directory, or a bucket and prefix. Keys are relative paths made of safe
 * segments (checkKey); every call is bounded in time, and a failure is a PgbackmanError whose code says
 * whether trying later may help (STORAGE_UNREACHABLE) or not (STORAGE_REFUSED, NOT_FOUND, UNSAFE).
 */
export interface Destination {
  readonly name: string;
  readonly kind: 'local' | 's3';
  /** Where it is, for messages and records: `/mnt/offsite` or `s3://bucket/prefix/ at https://endpoint`. */
  readonly where: string;
  /**
   * Streams `body` to `key`; the object appears whole or not at all (a temporary name, or a multipart upload).
   * `expectedBytes`, when known (a file's size, a database's), sizes an S3 upload's parts.
   */
  put(key: string, body: PutBody, signal?: AbortSignal, expectedBytes?: number): Promise<StoredObject>;
  /** The object's size and tag, or null when there is none. */
  head(key: string, signal?: AbortSignal): Promise<ObjectFacts | null>;
  /** The object's bytes; NOT_FOUND when there is none. */
  get(key: string, signal?: AbortSignal): Promise<Readable>;
  /**
   * Every key it holds (at most `limit`, to bound memory), sorted, as the store names them: a key that is not
   * one pgbackman writes (checkKey) is listed too, so the caller can say so; reading it is refused.
   */
  list(limit: number, signal?: AbortSignal): Promise<string[]>;
  /** Removes the object; removing one that is not there is not an error. */
  delete(key: string, signal?: AbortSignal): Promise<void>;
  /** Closes connections; the destination is not used after. */
  close(): void;
}

const SEGMENT = /^[\p{L}\p{N}._@+=%-]+$/u;

/** Whether checkKey would take `key`. */
export function isSafeKey(key: string): boolean {
  try {
    checkKey(key);
    return true;
  } catch {
    return false;
  }
}

/**
 * A key is a relative path of segments of letters, digits and `._@+=%-` (the root's own path segments), never
 * `.` or `..`: it cannot leave
 * its directory or prefix, whatever wrote it (a catalogue row, a backup.json found in a bucket).
 */
export function checkKey(key: string): string {
  const segments = key.split('/');
  const bad = segments.find((s) => !SEGMENT.test(s) || s === '.' || s === '..');
  if (key.length === 0 || key.length > 1024 || bad !== undefined)
    throw new PgbackmanError(
      'UNSAFE',
      `${JSON.stringify(key)} is not a key pgbackman writes: relative path segments of letters, digits and ._@+=%- only, never . or ..`,
    );
  return key;
}
