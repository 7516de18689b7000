import type { FileSum } from '../backup/files/backup-manifest.ts';
import { PgbackmanError } from '../errors.ts';
import type { Encryption } from '../manifest/generated/manifest-types.ts';

/** The suffix of every encrypted file of a dump: a person sees what a file is, and that it is sealed. */
export const AGE_SUFFIX = '.age';

/**
 * How a dump's files were encrypted, as its run and backup.json record it: the recipients (public keys, no
 * secret) and each stored file's plaintext size and sha256, by the stored file's name (`database.dump.age`).
 * The catalogue's sha256 map holds the stored (encrypted) bytes' checksums.
 */
export interface DumpEncryption {
  readonly age: { readonly recipients: readonly string[] };
  readonly plaintext: Readonly<Record<string, FileSum>>;
}

export const isEncryptedName = (name: string): boolean => name.endsWith(AGE_SUFFIX);
export const plainName = (name: string): string =>
  isEncryptedName(name) ? name.slice(0, -AGE_SUFFIX.length) : name;

export function dumpEncryption(e: Encryption, plaintext: Record<string, FileSum>): DumpEncryption {
  return { age: { recipients: [...e.age.recipients] }, plaintext };
}

/** backup.json's `encryption`, checked: recipients as strings, plaintext sums by stored file name. */
export function checkDumpEncryption(value: unknown, path: string): DumpEncryption | null {
  if (value === undefined || value === null) return null;
  const bad = (what: string): never => {
    throw new PgbackmanError('INVALID_INPUT', `${path}: encryption${what}`);
  };
  if (typeof value !== 'object' || Array.isArray(value)) bad(' must be an object');
  const v = value as Record<string, unknown>;
  const age = v.age as Record<string, unknown> | undefined;
  const recipients = age?.recipients;
  if (
    !Array.isArray(recipients) ||
    recipients.length === 0 ||
    recipients.some((r) => typeof r !== 'string' || !/^age1[0-9a-z]+$/.test(r))
  )
    bad('.age.recipients must be a list of age1… public keys');
  const plain = v.plaintext;
  if (typeof plain !== 'object' || plain === null || Array.isArray(plain))
    bad('.plaintext must be an object of file → {bytes, sha256}');
  const plaintext: Record<string, FileSum> = {};
  for (const [name, sum] of Object.entries(plain as Record<string, unknown>)) {
    const s = sum as Record<string, unknown> | null;
    if (
      !isEncryptedName(name) ||
      typeof s !== 'object' ||
      s === null ||
      !Number.isSafeInteger(s.bytes) ||
      typeof s.sha256 !== 'string' ||
      !/^[0-9a-f]{64}$/.test(s.sha256)
    )
      bad(`.plaintext[${JSON.stringify(name.slice(0, 80))}] must be {bytes, sha256} of a .age file`);
    plaintext[name] = { bytes: s?.bytes as number, sha256: s?.sha256 as string };
  }
  return { age: { recipients: recipients as string[] }, plaintext };
}
