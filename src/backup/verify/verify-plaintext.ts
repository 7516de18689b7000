import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { join } from 'node:path';
import type { DumpEncryption } from '../../encryption/dump-encryption.ts';
import { openDumpFile } from '../../encryption/read-encrypted.ts';
import { messageOf } from '../../errors.ts';
import { discoverPgBinDirs } from '../dump/pg-bin-dirs.ts';

export type PlaintextProblem = { readonly status: 'CORRUPT' | 'MISSING'; readonly error: string };

/**
 * An encrypted dump's plaintext, checked with a key: every sealed file decrypts (each chunk authenticates,
 * none is missing) to the size and sha256 recorded when it was taken, and the dump itself reads as a dump
 * (pg_restore --list fed the plaintext, or a plain dump's header). Nothing decrypted is written anywhere.
 */
export async function verifyPlaintext(
  dir: string,
  dumpFile: string,
  e: DumpEncryption,
  identities: readonly string[],
  signal?: AbortSignal,
): Promise<PlaintextProblem | undefined> {
  for (const [name, expected] of Object.entries(e.plaintext)) {
    const path = join(dir, name);
    const reader = name === dumpFile ? dumpReader(name) : undefined;
    const hash = createHash('sha256');
    let bytes = 0;
    try {
      for await (const chunk of openDumpFile(path, identities)) {
        signal?.throwIfAborted();
        hash.update(chunk as Buffer);
        bytes += (chunk as Buffer).length;
        await reader?.write(chunk as Buffer);
      }
    } catch (err) {
      reader?.abort();
      if (signal?.aborted) throw err;
      return { status: 'CORRUPT', error: `${path}: ${messageOf(err)}` };
    }
    const sha256 = hash.digest('hex');
    if (bytes !== expected.bytes || sha256 !== expected.sha256) {
      reader?.abort();
      return {
        status: 'CORRUPT',
        error: `${path} decrypts to ${bytes} bytes with sha256 ${sha256}, not the ${expected.bytes} bytes and ${expected.sha256} recorded when it was taken`,
      };
    }
    const problem = await reader?.end();
    if (problem !== undefined) return { status: 'CORRUPT', error: `${path}: ${problem}` };
  }
  return undefined;
}

interface PlainReader {
  write(chunk: Buffer): Promise<void>;
  /** Why the plaintext is not a dump, if it is not. */
  end(): Promise<string | undefined>;
  abort(): void;
}

/** What reads the dump's plaintext as pg_restore or psql would: the archive's TOC, or the SQL header. */
function dumpReader(name: string): PlainReader {
  if (name.endsWith('.sql.age')) {
    let head = '';
    return {
      async write(chunk) {
        if (head.length < 4096) head += chunk.subarray(0, 4096).toString('utf8');
      },
      end: async () =>
        /^--\n-- PostgreSQL database (cluster )?dump/m.test(head)
          ? undefined
          : 'its plaintext does not start with a PostgreSQL dump header',
      abort: () => undefined,
    };
  }
  const bin = [...discoverPgBinDirs().entries()].sort(([a], [c]) => c - a)[0]?.[1];
  if (bin === undefined)
    return {
      write: async () => undefined,
      end: async () => 'no pg_restore on this machine to read the dump with',
      abort: () => undefined,
    };
  // pg_restore --list reads the TOC from stdin and exits: the rest is still decrypted and hashed, not sent.
  const child = spawn(join(bin, 'pg_restore'), ['--list'], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    if (stderr.length < 8192) stderr += d;
  });
  let open = true;
  // pg_restore closes its stdin once it has read the TOC (EPIPE): the rest is hashed, not sent.
  child.stdin.on('error', () => {
    open = false;
  });
  const exited = once(child, 'close') as Promise<[number | null]>;
  void exited.then(() => {
    open = false;
  });
  return {
    async write(chunk) {
      if (!open || child.stdin.destroyed) return;
      if (!child.stdin.write(chunk))
        await Promise.race([
          once(child.stdin, 'drain').catch(() => undefined),
          once(child.stdin, 'close').catch(() => undefined),
          exited,
        ]);
    },
    async end() {
      child.stdin.end();
      const [code] = await exited;
      return code === 0 ? undefined : `pg_restore cannot read its plaintext: ${stderr.trim()}`;
    },
    abort: () => child.kill(),
  };
}
