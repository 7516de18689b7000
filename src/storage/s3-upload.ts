import { createHash } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  type S3Client,
  type StorageClass,
  UploadPartCommand,
} from '@aws-sdk/client-s3';

/** How long aborting a failed multipart upload may take (a store that hangs keeps its parts; lifecycle rules). */
const ABORT_MS = 10_000;

export interface UploadTarget {
  readonly client: S3Client;
  readonly Bucket: string;
  readonly Key: string;
  readonly storageClass?: string | undefined;
  readonly partBytes: number;
}

export interface Uploaded {
  readonly bytes: number;
  readonly sha256: string;
  readonly etag: string | null;
  readonly versionId: string | null;
}

/**
 * Streams `body` to one object through two part buffers allocated once and reused: one fills while the
 * other is sent, so memory is two parts whatever the size, and nothing is copied per part (lib-storage
 * concatenates each part from the chunks it read, a new buffer every time). An object smaller than a part
 * is one PutObject; a larger one a multipart upload, aborted if anything fails, so it appears whole or not
 * at all. Every request carries `signal`.
 */
export async function uploadStream(
  t: UploadTarget,
  body: AsyncIterable<Buffer>,
  signal?: AbortSignal,
): Promise<Uploaded> {
  // exactOptionalPropertyTypes: the key only when there is a signal.
  const send = signal === undefined ? {} : { abortSignal: signal };
  const hash = createHash('sha256');
  const storage = t.storageClass === undefined ? {} : { StorageClass: t.storageClass as StorageClass };
  const parts = [Buffer.allocUnsafe(t.partBytes)];
  let fill = 0;
  let bytes = 0;
  let uploadId: string | undefined;
  let partNumber = 0;
  const etags: { PartNumber: number; ETag: string }[] = [];
  // The part being sent, and which buffer it is in: the other one fills meanwhile.
  let sending: Promise<void> | undefined;
  let current = 0;
  const sendPart = async (data: Buffer, partNumber: number) => {
    const r = await t.client.send(
      new UploadPartCommand({
        Bucket: t.Bucket,
        Key: t.Key,
        UploadId: uploadId,
        PartNumber: partNumber,
        Body: data,
      }),
      send,
    );
    etags.push({ PartNumber: partNumber, ETag: r.ETag ?? '' });
  };
  const flush = async () => {
    if (uploadId === undefined) {
      const created = await t.client.send(
        new CreateMultipartUploadCommand({ Bucket: t.Bucket, Key: t.Key, ...storage }),
        send,
      );
      uploadId = created.UploadId;
    }
    // The buffer about to fill next must be free: the part sent from it before has arrived.
    await sending;
    const data = (parts[current] as Buffer).subarray(0, fill);
    sending = sendPart(data, ++partNumber);
    sending.catch(() => undefined);
    current = current === 0 ? 1 : 0;
    if (parts[current] === undefined) parts[current] = Buffer.allocUnsafe(t.partBytes);
    fill = 0;
  };
  try {
    // The loop asks for the next chunk only once this one is copied into a part: a Handoff's writer reuses it.
    for await (const data of body) {
      hash.update(data);
      bytes += data.length;
      let at = 0;
      while (at < data.length) {
        const n = Math.min(data.length - at, t.partBytes - fill);
        data.copy(parts[current] as Buffer, fill, at, at + n);
        fill += n;
        at += n;
        if (fill === t.partBytes) await flush();
      }
    }
    if (uploadId === undefined) {
      const put = await t.client.send(
        new PutObjectCommand({
          Bucket: t.Bucket,
          Key: t.Key,
          Body: (parts[current] as Buffer).subarray(0, fill),
          ...storage,
        }),
        send,
      );
      return uploaded(put.ETag, put.VersionId);
    }
    if (fill > 0) await flush();
    await sending;
    const done = await t.client.send(
      new CompleteMultipartUploadCommand({
        Bucket: t.Bucket,
        Key: t.Key,
        UploadId: uploadId,
        MultipartUpload: { Parts: [...etags].sort((a, b) => a.PartNumber - b.PartNumber) },
      }),
      send,
    );
    return uploaded(done.ETag, done.VersionId);
  } catch (err) {
    await sending?.catch(() => undefined);
    if (uploadId !== undefined)
      // Not with `signal`: an upload it stopped is aborted all the same, within a bound of its own.
      await t.client
        .send(new AbortMultipartUploadCommand({ Bucket: t.Bucket, Key: t.Key, UploadId: uploadId }), {
          abortSignal: AbortSignal.timeout(ABORT_MS),
        })
        .catch(() => undefined);
    throw err;
  }

  function uploaded(etag: string | undefined, versionId: string | undefined): Uploaded {
    return {
      bytes,
      sha256: hash.digest('hex'),
      etag: etag?.replaceAll('"', '') ?? null,
      versionId: versionId ?? null,
    };
  }
}
