import { readFileSync } from 'node:fs';
import { Decrypter, Encrypter } from 'age-encryption';
import { messageOf, PgbackmanError } from '../errors.ts';

/** Why `recipient` is not a public key age can encrypt to (a typo breaks its checksum), or undefined. */
export function ageRecipientProblem(recipient: string): string | undefined {
  try {
    new Encrypter().addRecipient(recipient);
    return undefined;
  } catch (err) {
    return `${JSON.stringify(recipient)} is not an age recipient (a public key as age-keygen prints it): ${messageOf(err)}`;
  }
}

/** Where restores find their private keys: --identity, else PGBACKMAN_AGE_IDENTITY. */
export interface IdentitySource {
  /** A file of identities (age-keygen's output: `#` comments and AGE-SECRET-KEY-1… lines). */
  readonly file?: string | undefined;
  /** PGBACKMAN_AGE_IDENTITY: a file's path, or the identities themselves when it starts with AGE-SECRET-KEY-. */
  readonly env?: string | undefined;
}

/**
 * The identities to decrypt with, read from where the operator said: none when neither is set. A file that
 * cannot be read, or holds no identity, is an error naming it; the keys never appear in a message.
 */
export function readIdentities(source: IdentitySource): readonly string[] {
  const value = source.file ?? source.env;
  if (value === undefined || value === '') return [];
  const from = source.file !== undefined ? `--identity ${source.file}` : 'PGBACKMAN_AGE_IDENTITY';
  let text: string;
  if (source.file === undefined && value.startsWith('AGE-SECRET-KEY-')) text = value;
  else
    try {
      text = readFileSync(value, 'utf8');
    } catch (err) {
      throw new PgbackmanError('INVALID_INPUT', `${from}: cannot read ${value}: ${messageOf(err)}`);
    }
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const identities: string[] = [];
  lines.forEach((line, i) => {
    if (!line.startsWith('AGE-SECRET-KEY-'))
      throw new PgbackmanError(
        'INVALID_INPUT',
        `${from}: identity ${i + 1} is not an age secret key (AGE-SECRET-KEY-1…); passphrases and SSH keys are not supported`,
      );
    try {
      new Decrypter().addIdentity(line);
    } catch {
      throw new PgbackmanError('INVALID_INPUT', `${from}: identity ${i + 1} is not a valid age secret key`);
    }
    identities.push(line);
  });
  if (identities.length === 0)
    throw new PgbackmanError('INVALID_INPUT', `${from}: holds no age identity (AGE-SECRET-KEY-1…)`);
  return identities;
}
