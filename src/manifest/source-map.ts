import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import type { Alias, Document, Node } from 'yaml';
import { messageOf } from '../errors.ts';
import type { Diagnostic, Position, Range } from './diagnostic.ts';

// Loaded on first use: valid manifests never need positions, and `yaml` is ~5 MB of a long-lived agent's memory.
let lib: typeof Yaml | undefined;
const yaml = (): typeof Yaml => {
  lib ??= createRequire(import.meta.url)('yaml') as typeof Yaml;
  return lib;
};

/** Aliases may expand to at most this many nodes per document: an alias bomb fails fast instead of eating memory. */
export const MAX_ALIAS_EXPANSION = 100;

export const YAML_OPTIONS = {
  prettyErrors: false,
  uniqueKeys: true,
  strict: true,
  merge: false, // `<<` stays an ordinary key, so the schema rejects it as an unknown field
  keepSourceTokens: false,
} as const;

interface LocatedDocument {
  readonly contents: Node | null;
  readonly range: Range;
  readonly resolve: (node: Node) => Node | undefined;
}

/** The precise parse of one file: documents with positions, so JSON pointers become file:line:column. */
export class SourceMap {
  readonly #lines = new (yaml().LineCounter)();
  readonly #docs: LocatedDocument[] = [];
  readonly values: unknown[] = [];
  readonly diagnostics: Diagnostic[] = [];
  /** The `yaml` error code behind each YAML diagnostic, to choose between the two parsers' findings. */
  readonly codes = new WeakMap<Diagnostic, string>();

  readonly file: string;

  constructor(file: string, text: string) {
    this.file = file;
    let docs: Document.Parsed[];
    try {
      const parsed = yaml().parseAllDocuments(text, { ...YAML_OPTIONS, lineCounter: this.#lines });
      docs = Array.isArray(parsed) ? parsed : [];
    } catch (err) {
      this.diagnostics.push(this.#diagnostic(0, 0, `YAML: ${exhaustionMessage(err)}`));
      return;
    }
    for (const doc of docs) {
      const [start = 0, , end = start] = doc.range;
      this.#docs.push({
        contents: (doc.contents as Node | null) ?? null,
        range: this.range(start, end),
        resolve: (node) => (yaml().isAlias(node) ? (node.resolve(doc) as Node | undefined) : node),
      });
      // One finding per document: after the first YAML error, the rest are usually its echoes.
      const problem = this.#firstProblem(text, doc, start);
      if (problem !== undefined) this.diagnostics.push(problem);
      this.values.push(problem === undefined ? this.#value : null);
    }
  }

  #value: unknown = null;

  /** The first YAML problem of a document (setting #value to its data when there is none). */
  #firstProblem(text: string, doc: Document.Parsed, start: number): Diagnostic | undefined {
    const e = [...doc.errors, ...doc.warnings].sort((a, b) => a.pos[0] - b.pos[0])[0];
    if (e !== undefined) {
      const token = /^[^:\n]{0,80}/.exec(text.slice(e.pos[0]))?.[0].trim() ?? '';
      // An unclosed flow collection is reported where the next line starts; point at its opening bracket.
      const unclosed = /^Flow (map|sequence)/.test(e.message);
      const from = unclosed ? openingBracket(text, e.pos[0]) : e.pos[0];
      const d = this.#diagnostic(from, Math.max(from, e.pos[1]), yamlMessage(e.code, e.message, token));
      this.codes.set(d, unclosed ? 'UNCLOSED_FLOW' : e.code);
      return d;
    }
    try {
      let firstAlias: [number, number] | undefined;
      let unresolved: Alias | undefined;
      yaml().visit(doc, {
        Alias: (_, alias) => {
          firstAlias ??= [alias.range?.[0] ?? start, alias.range?.[1] ?? start];
          if (unresolved === undefined && alias.resolve(doc) === undefined) unresolved = alias;
        },
      });
      if (unresolved !== undefined) {
        const [from = start, to = from] = unresolved.range ?? [];
        return this.#diagnostic(
          from,
          to,
          `YAML: alias *${unresolved.source} refers to no anchor &${unresolved.source} before it`,
        );
      }
      try {
        this.#value = doc.toJS({ maxAliasCount: MAX_ALIAS_EXPANSION });
      } catch (err) {
        const [from, to] = firstAlias ?? [start, start];
        return this.#diagnostic(from, to, exhaustionMessage(err));
      }
    } catch (err) {
      return this.#diagnostic(start, start, `YAML: ${exhaustionMessage(err)}`);
    }
    return undefined;
  }

  /** The index of the document that holds `offset` (the last one that starts at or before it). */
  documentAt(offset: number): number {
    let index = 0;
    for (const [i, doc] of this.#docs.entries()) if (doc.range.start.offset <= offset) index = i;
    return index;
  }

  get documentCount(): number {
    return this.#docs.length;
  }

  position(offset: number): Position {
    const { line, col } = this.#lines.linePos(offset);
    return { line, column: col, offset };
  }

  range(start: number, end: number): Range {
    return { start: this.position(start), end: this.position(end) };
  }

  /** The range of the node at `pointer` in document `index`; with `key`, of the key naming the last segment. */
  locate(index: number, pointer: string, key = false): Range {
    const doc = this.#docs[index];
    if (doc === undefined) return this.range(0, 0);
    let node: Node | null = doc.contents;
    let found: Range = node?.range ? this.range(node.range[0], node.range[1]) : doc.range;
    const segments = pointer === '' ? [] : pointer.slice(1).split('/').map(unescapePointer);
    for (const [i, segment] of segments.entries()) {
      const current: Node | undefined = node === null ? undefined : doc.resolve(node);
      let next: Node | null = null;
      if (yaml().isMap(current)) {
        const pair = current.items.find((p) => yaml().isScalar(p.key) && String(p.key.value) === segment);
        if (pair === undefined) break;
        const keyNode = pair.key as Node;
        if (key && i === segments.length - 1 && keyNode.range)
          return this.range(keyNode.range[0], keyNode.range[1]);
        next = (pair.value as Node | null) ?? keyNode;
      } else if (yaml().isSeq(current)) {
        next = (current.items[Number(segment)] as Node | undefined) ?? null;
      }
      if (next === null) break;
      node = next;
      if (node.range) found = this.range(node.range[0], node.range[1]);
    }
    return found;
  }

  #diagnostic(start: number, end: number, message: string): Diagnostic {
    return { severity: 'error', file: this.file, range: this.range(start, end), message };
  }
}

function unescapePointer(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}

function yamlMessage(code: string, message: string, token: string): string {
  const text = message.replace(/\s+at line \d+, column \d+.*$/s, '').trim();
  switch (code) {
    case 'BAD_INDENT':
      if (/^Flow map/.test(text))
        return 'YAML: this flow mapping "{" is not closed by "}" (or a line inside it is not indented enough)';
      if (/^Flow sequence/.test(text))
        return 'YAML: this flow sequence "[" is not closed by "]" (or a line inside it is not indented enough)';
      return `YAML: ${text}`;
    case 'DUPLICATE_KEY':
      return `YAML: duplicate key "${token}": a key may appear only once in a mapping`;
    case 'TAB_AS_INDENT':
      return 'YAML: tab character used for indentation; indent with spaces';
    default:
      return `YAML: ${text}`;
  }
}

function exhaustionMessage(err: unknown): string {
  const message = messageOf(err);
  if (/excessive alias count/i.test(message)) {
    return `YAML: aliases expand to too many nodes (limit ${MAX_ALIAS_EXPANSION}); an alias bomb? Write the values out instead`;
  }
  if (err instanceof RangeError) return 'nesting is too deep';
  return message;
}

/** The nearest `{` or `[` before `offset` that is not closed before it (quotes are not tracked: a best guess). */
function openingBracket(text: string, offset: number): number {
  let depth = 0;
  for (let i = Math.min(offset, text.length) - 1; i >= 0; i--) {
    const c = text[i];
    if (c === '}' || c === ']') depth++;
    else if (c === '{' || c === '[') {
      if (depth === 0) return i;
      depth--;
    }
  }
  return offset;
}
