import { createHash } from 'node:crypto';
import type { FileSum } from '../backup/files/backup-manifest.ts';
import type { ByteTarget } from '../backup/files/hashed-sink.ts';
import { ageSealer } from './age-stream.ts';

/** A target whose bytes are sealed for age recipients on their way to `inner`, which never sees plaintext. */
export interface EncryptedTarget extends ByteTarget {
  /** What `inner` received: the stored file's size and sha256 (verify checks these without a key). */
  stored(): FileSum;
}

/**
 * Wraps a target (a file, an upload) so each write is sealed before it goes on. Sealing copies: the caller
 * may reuse its buffer as soon as `write` resolves, as the sink does.
 */
export async function encryptedTarget(
  inner: ByteTarget,
  recipients: readonly string[],
): Promise<EncryptedTarget> {
  const sealer = await ageSealer(recipients);
  const hash = createHash('sha256');
  let bytes = 0;
  // One buffer reused for every write: the pieces are copied in once, and `inner` is done with it before the
  // next write (the ByteTarget contract), so a dump of any size allocates no large buffer per write.
  let out = Buffer.allocUnsafe(0);
  const pass = async (pieces: readonly Buffer[]) => {
    let size = 0;
    for (const p of pieces) size += p.length;
    if (size === 0) return;
    if (out.length < size) out = Buffer.allocUnsafe(size);
    let at = 0;
    for (const p of pieces) at += p.copy(out, at);
    const sealed = out.subarray(0, size);
    hash.update(sealed);
    bytes += size;
    await inner.write(sealed);
  };
  let sum: FileSum | undefined;
  return {
    write: (data) => pass(sealer.seal(data)),
    async finish() {
      await pass(sealer.finish());
      sum = { bytes, sha256: hash.digest('hex') };
      await inner.finish();
    },
    abort: () => inner.abort(),
    stored() {
      if (sum === undefined) throw new Error('encryptedTarget.stored() before finish()');
      return sum;
    },
  };
}
