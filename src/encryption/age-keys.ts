import { readFile, stat } from 'node:fs/promises';
import { messageOf, PgbackmanError } from '../errors.ts';

// age's keys are Bech32 strings: checked here with no library, so validating manifests loads nothing of age's.
const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const GENERATOR = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];

/** A Bech32 string's human-readable part and data words, when its checksum holds (any length, as age allows). */
function bech32(s: string): { readonly hrp: string; readonly words: number } | undefined {
  const lower = s.toLowerCase();
  if (s !== lower && s !== s.toUpperCase()) return undefined;
  const at = lower.lastIndexOf('1');
  if (at < 1 || at + 7 > lower.length) return undefined;
  const hrp = lower.slice(0, at);
  const values = [...hrp].map((c) => c.charCodeAt(0) >> 5);
  values.push(0, ...[...hrp].map((c) => c.charCodeAt(0) & 31));
  for (const c of lower.slice(at + 1)) {
    const v = CHARSET.indexOf(c);
    if (v < 0) return undefined;
    values.push(v);
  }
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= GENERATOR[i] as number;
  }
  return chk === 1 ? { hrp, words: lower.length - at - 1 - 6 } : undefined;
}

/** Why `recipient` is not a public key age can encrypt to (a typo breaks its checksum), or undefined. */
export function ageRecipientProblem(recipient: string): string | undefined {
  if (recipient !== recipient.trim())
    return `${JSON.stringify(recipient.slice(0, 100))} has spaces or a line break around it: an age recipient is the key alone (age1…)`;
  if (/^AGE-SECRET-KEY-/i.test(recipient))
    return 'a secret key (AGE-SECRET-KEY-…) is written where a recipient belongs: put the public key (age-keygen -y) in the manifest, and keep the secret key out of git';
  const b = bech32(recipient);
  // An X25519 key is 32 bytes (52 words of 5 bits); a post-quantum one (age1pq1…) is longer.
  if (b !== undefined && ((b.hrp === 'age' && b.words === 52) || b.hrp === 'age1pq')) return undefined;
  return `${JSON.stringify(recipient.slice(0, 100))} is not an age recipient (a public key as \`age-keygen -y\` prints it, age1…): ${b === undefined ? 'its checksum does not match (a character mistyped or missing?)' : 'its length is not a key’s'}`;
}

/** Whether `line` is an age secret key with a valid checksum (never put into a message). */
function isIdentity(line: string): boolean {
  const b = bech32(line);
  return (
    b !== undefined && ((b.hrp === 'age-secret-key-' && b.words === 52) || b.hrp === 'age-secret-key-pq-')
  );
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
export async function readIdentities(source: IdentitySource): Promise<readonly string[]> {
  const value = source.file ?? source.env;
  if (value === undefined || value === '') return [];
  // The variable may hold the keys themselves (age-keygen's whole output, comments and all): never echoed.
  const inline = source.file === undefined && /AGE-SECRET-KEY-/i.test(value);
  const from = source.file !== undefined ? `--identity ${source.file}` : 'PGBACKMAN_AGE_IDENTITY';
  const text = inline ? value : await readKeyFile(value, from, source.file !== undefined);
  const identities: string[] = [];
  text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .forEach((line, i) => {
      if (!isIdentity(line))
        throw new PgbackmanError(
          'INVALID_INPUT',
          /^age1/.test(line)
            ? `${from}: line ${i + 1} of its keys is a public key (age1…), what dumps are sealed for; give the secret key that goes with it (AGE-SECRET-KEY-1…, the file age-keygen wrote)`
            : `${from}: line ${i + 1} of its keys is not an age secret key (AGE-SECRET-KEY-1… as age-keygen writes it, checksum included); passphrases and SSH keys are not supported`,
        );
      identities.push(line);
    });
  if (identities.length === 0)
    throw new PgbackmanError('INVALID_INPUT', `${from}: holds no age identity (AGE-SECRET-KEY-1…)`);
  return identities;
}

/** An identity file is small: one refused on its size or kind is never read. */
const MAX_KEY_FILE = 64 * 1024;

async function readKeyFile(path: string, from: string, named: boolean): Promise<string> {
  // A path from the flag is the operator's to see; the variable's value is not repeated (it may be a key mistyped).
  const what = named ? path : 'its value';
  let st: Awaited<ReturnType<typeof stat>>;
  try {
    st = await stat(path);
  } catch (err) {
    throw new PgbackmanError(
      'INVALID_INPUT',
      `${from}: ${what} is neither a readable file nor age secret keys (AGE-SECRET-KEY-1…): ${(err as NodeJS.ErrnoException).code ?? messageOf(err)}`,
    );
  }
  if (!st.isFile())
    throw new PgbackmanError('INVALID_INPUT', `${from}: ${what} is not a file (age-keygen's output is one)`);
  // As ssh refuses an unprotected private key: whoever can read this file can read every dump sealed for it.
  if ((st.mode & 0o077) !== 0)
    throw new PgbackmanError(
      'UNSAFE',
      `${from}: ${named ? 'the file' : 'the file it names'} may be read by others (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}); an age identity opens every dump sealed for it: chmod 600 it (age-keygen -o writes it so)`,
    );
  if (st.size > MAX_KEY_FILE)
    throw new PgbackmanError(
      'INVALID_INPUT',
      `${from}: ${what} holds ${st.size} bytes, more than an identity file's ${MAX_KEY_FILE}: not one age-keygen wrote`,
    );
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new PgbackmanError(
      'INVALID_INPUT',
      `${from}: cannot read ${what}: ${(err as NodeJS.ErrnoException).code ?? messageOf(err)}`,
    );
  }
}
