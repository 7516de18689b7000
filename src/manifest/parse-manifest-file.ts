import { loadAll } from 'js-yaml';
import type { Diagnostic } from './diagnostic.ts';
import { SourceMap } from './source-map.ts';
import { rangeAt } from './text-position.ts';

/** One manifest file, parsed: a value per YAML document, YAML-level findings, and positions on demand. */
export interface ParsedFile {
  readonly file: string;
  /** One value per YAML document, `null` for an empty document or one that failed to parse. */
  readonly documents: readonly unknown[];
  readonly diagnostics: readonly Diagnostic[];
  /** The precise parse, built on first use: valid files never pay for positions. */
  sourceMap(): SourceMap;
}

// Anchors (and so aliases) and merge keys go to the precise parser, which bounds alias expansion.
const NEEDS_PRECISE = /(?:^|[\s[{,])&[^\s]|<</m;

/**
 * Parses with js-yaml (fast, rejects duplicate keys and tab indentation), falling back to `yaml`
 * (positions, alias limits) for files that use anchors or merge keys, or that js-yaml rejects.
 */
export function parseManifestFile(file: string, text: string): ParsedFile {
  let map: SourceMap | undefined;
  const sourceMap = (): SourceMap => {
    map ??= new SourceMap(file, text);
    return map;
  };
  if (NEEDS_PRECISE.test(text)) return precise(file, sourceMap);
  try {
    const documents = loadAll(text, { filename: file, maxDepth: 64 });
    return { file, documents, diagnostics: [], sourceMap };
  } catch (err) {
    const parsed = precise(file, sourceMap);
    if (parsed.diagnostics.length > 0) return parsed;
    // The two parsers disagree: report js-yaml's finding rather than accept a file one of them rejects.
    return { file, documents: [], diagnostics: [fastParserDiagnostic(file, text, err)], sourceMap };
  }
}

function precise(file: string, sourceMap: () => SourceMap): ParsedFile {
  const map = sourceMap();
  return { file, documents: map.values, diagnostics: map.diagnostics, sourceMap };
}

function fastParserDiagnostic(file: string, text: string, err: unknown): Diagnostic {
  const e = err as { reason?: string; message?: string; mark?: { position?: number } };
  const offset = e.mark?.position ?? 0;
  return {
    severity: 'error',
    file,
    range: rangeAt(text, offset, offset),
    message: `YAML: ${e.reason ?? e.message ?? String(err)}`,
  };
}
