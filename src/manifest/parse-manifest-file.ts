import { CORE_SCHEMA, type LoadOptions, loadAll } from 'js-yaml';
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

// CORE_SCHEMA: timestamps stay strings and `<<` is not merged, as with `yaml`; maxDepth guards the stack.
const FAST_OPTIONS: LoadOptions & { maxDepth: number } = { schema: CORE_SCHEMA, maxDepth: 64 };

// `yaml` findings that say more than js-yaml's (which words indentation and depth errors better).
const PREFER_YAML = new Set([
  'UNCLOSED_FLOW',
  'MISSING_CHAR',
  'DUPLICATE_KEY',
  'BAD_DQ_ESCAPE',
  'TAB_AS_INDENT',
  'BAD_ALIAS',
  'TAG_RESOLVE_FAILED',
  'KEY_OVER_1024_CHARS',
  'MULTIPLE_ANCHORS',
  'MULTIPLE_TAGS',
]);

// Anchors (and so aliases) and merge keys go to the precise parser, which bounds alias expansion.
const NEEDS_PRECISE = /(?:^|[\s[{,])&[^\s]|<</m;

/**
 * Parses with js-yaml (fast, rejects duplicate keys and tab indentation), falling back to `yaml`
 * (positions, alias limits) for files that use anchors or merge keys, or that js-yaml rejects.
 * Each document reports at most its first YAML error.
 */
export function parseManifestFile(file: string, text: string): ParsedFile {
  let map: SourceMap | undefined;
  const sourceMap = (): SourceMap => {
    map ??= new SourceMap(file, text);
    return map;
  };
  if (NEEDS_PRECISE.test(text)) return precise(file, sourceMap);
  try {
    const documents = loadAll(text, undefined, { ...FAST_OPTIONS, filename: file });
    return { file, documents, diagnostics: [], sourceMap };
  } catch (err) {
    // js-yaml stops at the first error and words indentation and depth errors better; `yaml` still
    // parses the other documents, so they are checked, and reports their own first errors.
    const map = sourceMap();
    const fast = fastParserDiagnostic(file, text, err);
    const index = map.documentAt(fast.range.start.offset);
    const precise = map.diagnostics.find((d) => map.documentAt(d.range.start.offset) === index);
    const code = precise === undefined ? undefined : map.codes.get(precise);
    const first = precise !== undefined && code !== undefined && PREFER_YAML.has(code) ? precise : fast;
    const others = map.diagnostics.filter((d) => map.documentAt(d.range.start.offset) !== index);
    const documents = map.values.map((v, i) => (i === index ? null : v));
    return { file, documents, diagnostics: [first, ...others], sourceMap };
  }
}

function precise(file: string, sourceMap: () => SourceMap): ParsedFile {
  const map = sourceMap();
  return { file, documents: map.values, diagnostics: map.diagnostics, sourceMap };
}

function fastParserDiagnostic(file: string, text: string, err: unknown): Diagnostic {
  const e = err as { reason?: string; message?: string; mark?: { position?: number } };
  const offset = e.mark?.position ?? 0;
  let message = e.reason ?? e.message ?? String(err);
  if (message === 'duplicated mapping key') {
    const key = /^[^:\n]{0,80}/.exec(text.slice(offset))?.[0].trim() ?? '';
    message = `duplicate key "${key}": a key may appear only once in a mapping`;
  }
  return { severity: 'error', file, range: rangeAt(text, offset, offset), message: `YAML: ${message}` };
}
