import { isAlias, isMap, isScalar, isSeq, LineCounter, type Node, parseAllDocuments, visit } from 'yaml';
import type { Diagnostic, Position, Range } from './diagnostic.ts';

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
  readonly #lines = new LineCounter();
  readonly #docs: LocatedDocument[] = [];
  readonly values: unknown[] = [];
  readonly diagnostics: Diagnostic[] = [];

  readonly file: string;

  constructor(file: string, text: string) {
    this.file = file;
    const docs = parseAllDocuments(text, { ...YAML_OPTIONS, lineCounter: this.#lines });
    const list = Array.isArray(docs) ? docs : [];
    for (const doc of list) {
      for (const e of [...doc.errors, ...doc.warnings]) {
        const token = text.slice(e.pos[0], Math.min(e.pos[1], e.pos[0] + 80));
        this.diagnostics.push(this.#diagnostic(e.pos[0], e.pos[1], yamlMessage(e.code, e.message, token)));
      }
      const [start = 0, , end = start] = doc.range;
      this.#docs.push({
        contents: (doc.contents as Node | null) ?? null,
        range: this.range(start, end),
        resolve: (node) => (isAlias(node) ? (node.resolve(doc) as Node | undefined) : node),
      });
      let value: unknown = null;
      let unresolved = 0;
      visit(doc, {
        Alias: (_, alias) => {
          if (alias.resolve(doc) !== undefined) return;
          unresolved++;
          const [from = start, to = from] = alias.range ?? [];
          this.diagnostics.push(this.#diagnostic(from, to, `YAML: alias *${alias.source} refers to no anchor &${alias.source} before it`));
        },
      });
      if (doc.errors.length === 0 && unresolved === 0) {
        try {
          value = doc.toJS({ maxAliasCount: MAX_ALIAS_EXPANSION });
        } catch (err) {
          value = null;
          this.diagnostics.push(this.#diagnostic(start, start, aliasMessage(err)));
        }
      }
      this.values.push(value);
    }
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
      if (isMap(current)) {
        const pair = current.items.find((p) => isScalar(p.key) && String(p.key.value) === segment);
        if (pair === undefined) break;
        const keyNode = pair.key as Node;
        if (key && i === segments.length - 1 && keyNode.range)
          return this.range(keyNode.range[0], keyNode.range[1]);
        next = (pair.value as Node | null) ?? keyNode;
      } else if (isSeq(current)) {
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
    case 'DUPLICATE_KEY':
      return `YAML: duplicate key "${token}": a key may appear only once in a mapping`;
    case 'TAB_AS_INDENT':
      return 'YAML: tab character used for indentation; indent with spaces';
    default:
      return `YAML: ${text}`;
  }
}

function aliasMessage(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  if (/excessive alias count/i.test(message)) {
    return `YAML: aliases expand to too many nodes (limit ${MAX_ALIAS_EXPANSION}); an alias bomb? Write the values out instead`;
  }
  return `YAML: ${message}`;
}
