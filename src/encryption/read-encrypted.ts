import { createReadStream } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { pipeline, type Readable } from 'node:stream';
import { messageOf, PgbackmanError } from '../errors.ts';
import { ageDecryptor, checkAgeHeader } from './age-stream.ts';
import { type DumpEncryption, isEncryptedName } from './dump-encryption.ts';

/**
 * A dump's file as its plaintext: read as it is, or decrypted as it streams when it is sealed (`.age`). A
 * changed or cut-short file fails the stream; nothing unauthenticated comes out of it.
 */
export function openDumpFile(path: string, identities: readonly string[]): Readable {
  if (!isEncryptedName(path)) return createReadStream(path);
  return pipeline(createReadStream(path), ageDecryptor(identities), () => undefined);
}

/** A small file of the dump (roles.sql, config.sql), as text; '' when there is none. */
export async function readDumpText(path: string | null, identities: readonly string[]): Promise<string> {
  if (path === null) return '';
  if (!isEncryptedName(path)) return readFile(path, 'utf8');
  const parts: Buffer[] = [];
  try {
    for await (const chunk of openDumpFile(path, identities)) parts.push(chunk as Buffer);
  } catch (err) {
    throw new PgbackmanError('INVALID_INPUT', `${path}: ${messageOf(err)}`, { cause: err });
  }
  return Buffer.concat(parts).toString('utf8');
}

/** The dump as far as a restore needs to know: its id, how it was sealed, where its dump file is. */
interface SealedRun {
  readonly id: string;
  readonly encryption: DumpEncryption | null;
  readonly dumpPath: string | null;
}

/**
 * Before a restore touches anything: an encrypted dump needs an identity, and one that opens its header. Says
 * which recipients it was sealed for (public keys, never a secret) so the operator knows which key to find.
 */
export async function requireIdentity(run: SealedRun, identities: readonly string[]): Promise<void> {
  const e = run.encryption;
  if (e === null || run.dumpPath === null) return;
  const sealedFor = `age, for ${e.age.recipients.length === 1 ? e.age.recipients[0] : `${e.age.recipients.length} recipients: ${e.age.recipients.join(', ')}`}`;
  if (identities.length === 0)
    throw new PgbackmanError(
      'RESTORE_REFUSED',
      `backup ${run.id} is encrypted (${sealedFor}): give an identity that decrypts it with --identity FILE or PGBACKMAN_AGE_IDENTITY; nothing on the target was touched`,
    );
  const head = await firstBytes(run.dumpPath, 64 * 1024);
  try {
    await checkAgeHeader(identities, head);
  } catch (err) {
    throw new PgbackmanError(
      'RESTORE_REFUSED',
      `backup ${run.id} (${basename(run.dumpPath)}, ${sealedFor}): ${messageOf(err)}; nothing on the target was touched`,
    );
  }
}

async function firstBytes(path: string, n: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(n), 0, n, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}
