/** A position in a file: 1-based line and column, 0-based byte-free character offset. */
export interface Position {
  readonly line: number;
  readonly column: number;
  readonly offset: number;
}

export interface Range {
  readonly start: Position;
  readonly end: Position;
}

export type Severity = 'error' | 'warning';

/** One finding about the manifests, pointing at the node that caused it. */
export interface Diagnostic {
  readonly severity: Severity;
  readonly file: string;
  readonly range: Range;
  /** `Kind/name` of the resource, when the finding is about one. */
  readonly address?: string;
  /** JSON pointer inside the resource, e.g. `/spec/retention/period`. */
  readonly pointer?: string;
  readonly message: string;
}

export const START: Range = {
  start: { line: 1, column: 1, offset: 0 },
  end: { line: 1, column: 1, offset: 0 },
};

/** `file:line:col: error: Kind/name: /pointer: message`, the format editors and CI annotators parse. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = `${d.file}:${d.range.start.line}:${d.range.start.column}`;
  const parts = [where, ` ${d.severity}`];
  if (d.address !== undefined) parts.push(` ${d.address}`);
  if (d.pointer !== undefined) parts.push(` ${d.pointer === '' ? '/' : d.pointer}`);
  parts.push(` ${d.message}`);
  return escapeControls(parts.join(':'));
}

/** Manifest text may hold escape sequences and newlines; printed raw they would rewrite a terminal or a CI log. */
export function escapeControls(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => {
    const named: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
    return named[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  return a.range.start.offset - b.range.start.offset || a.message.localeCompare(b.message);
}
