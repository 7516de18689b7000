import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import type { Diagnostic } from './diagnostic.ts';
import { rangeAt } from './text-position.ts';

export const DEFAULT_MAX_FILE_BYTES = 1024 * 1024;

export type ReadResult =
  | { readonly ok: true; readonly text: string }
  | { readonly ok: false; readonly diagnostic: Diagnostic };

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/**
 * Reads a manifest file as UTF-8 text, refusing oversized and binary files before parsing them.
 * Synchronous on purpose: for a thousand small files it costs a third of promise-based reads.
 */
export function readManifestFile(file: string, maxBytes = DEFAULT_MAX_FILE_BYTES): ReadResult {
  const fail = (message: string, offset = 0, text = ''): ReadResult => ({
    ok: false,
    diagnostic: { severity: 'error', file, range: rangeAt(text, offset, offset), message },
  });
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const { size } = fstatSync(fd);
    // Refuse before reading: a 50 MB file must not be loaded, let alone parsed.
    if (size > maxBytes)
      return fail(`file is ${size} bytes, over the limit of ${maxBytes} bytes for a manifest file`);
    const bytes = readFileSync(fd);
    const nul = bytes.indexOf(0);
    if (nul !== -1) return fail(`file is binary (a NUL byte at offset ${nul}), not YAML text`);
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch {
      const at = firstInvalidUtf8(bytes);
      const prefix = new TextDecoder().decode(bytes.subarray(0, at));
      const shown = [...bytes.subarray(at, at + 2)]
        .map((b) => b.toString(16).toUpperCase().padStart(2, '0'))
        .join(' ');
      return fail(`file is not valid UTF-8 text (bytes ${shown})`, prefix.length, prefix);
    }
    const control = /[\u0001-\u0008\u000b\u000c\u000e-\u001f\u007f]/.exec(text);
    if (control !== null) {
      const code = control[0].charCodeAt(0).toString(16).padStart(4, '0');
      return fail(`control character U+${code} is not allowed in a manifest`, control.index, text);
    }
    return { ok: true, text };
  } catch (err) {
    return fail(`cannot read file: ${(err as NodeJS.ErrnoException).message}`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The offset of the first byte that does not start or continue a well-formed UTF-8 sequence. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] as number;
    const length =
      b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (length === 0 || i + length > bytes.length) return i;
    for (let j = 1; j < length; j++) if (((bytes[i + j] as number) & 0xc0) !== 0x80) return i;
    // Overlong, surrogate and out-of-range forms are caught here rather than by a decoder.
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(i, i + length));
    } catch {
      return i;
    }
    i += length;
  }
  return bytes.length;
}
