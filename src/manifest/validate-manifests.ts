import { PgbackmanError } from '../errors.ts';
import { compareDiagnostics, type Diagnostic } from './diagnostic.ts';
import { findManifestFiles } from './find-manifest-files.ts';
import type { Manifest } from './generated/manifest-types.ts';
import { isKind, KINDS, type Kind } from './kinds.ts';
import { type ParsedFile, parseManifestFile } from './parse-manifest-file.ts';
import { DEFAULT_MAX_FILE_BYTES, readManifestFile } from './read-manifest-file.ts';
import { address, type Resource } from './resource.ts';
import { StringTable } from './string-table.ts';
import { didYouMean } from './suggest.ts';
import { type Issue, validateSchema } from './validate-schema.ts';
import { validateSemantics } from './validate-semantics.ts';

export interface ValidateOptions {
  readonly maxFileBytes?: number;
}

export interface ValidationResult {
  readonly files: number;
  /** Files refused before parsing: too large, binary, not UTF-8, or holding no manifest. */
  readonly unreadableFiles: number;
  /** Files with YAML errors; their other documents are still checked. */
  readonly yamlErrorFiles: number;
  readonly resourceCount: number;
  readonly invalidCount: number;
  /** The resources without errors, in file order. */
  readonly resources: readonly Resource[];
  readonly diagnostics: readonly Diagnostic[];
}

interface Entry {
  readonly parsed: ParsedFile;
  readonly document: number;
  readonly kind: Kind | undefined;
  readonly name: string | undefined;
  readonly value: unknown;
  readonly issues: Issue[];
}

/** Loads every manifest under `paths` and checks it in three passes: YAML, schema, semantics. */
export async function validateManifests(
  paths: readonly string[],
  options: ValidateOptions = {},
): Promise<ValidationResult> {
  const files = await findManifestFiles(paths);
  if (files.length === 0)
    throw new PgbackmanError('NO_MANIFESTS', `no manifest files (*.yaml, *.yml) in ${paths.join(', ')}`);
  const diagnostics: Diagnostic[] = [];
  const entries: Entry[] = [];
  let unreadableFiles = 0;
  let yamlErrorFiles = 0;
  const maxBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const strings = new StringTable();
  for (const file of files) {
    const read = readManifestFile(file, maxBytes);
    if (!read.ok) {
      diagnostics.push(read.diagnostic);
      unreadableFiles++;
      continue;
    }
    const parsed = parseManifestFile(file, read.text);
    diagnostics.push(...parsed.diagnostics);
    if (parsed.diagnostics.length > 0) yamlErrorFiles++;
    const before = entries.length;
    parsed.documents.forEach((value, document) => {
      if (value !== null && value !== undefined)
        entries.push(checkDocument(parsed, document, strings.intern(value)));
    });
    if (entries.length === before && parsed.diagnostics.length === 0) {
      diagnostics.push({
        ...fileStart(file),
        message: 'file contains no manifests (it is empty or only comments)',
      });
      unreadableFiles++;
    }
  }
  const names = collectNames(entries);
  markDuplicates(entries);
  // Semantics run on schema-invalid resources too (all errors at once), minus findings under a schema error.
  const identified = entries.filter((e) => e.kind !== undefined && e.name !== undefined);
  const resources = identified.map(toResource);
  const byResource = new Map(resources.map((r, i) => [r, identified[i] as Entry]));
  const schemaPointers = new Map(identified.map((e) => [e, e.issues.map((i) => i.pointer)]));
  for (const issue of validateSemantics(resources, names)) {
    const entry = byResource.get(issue.resource);
    if (entry === undefined) continue;
    const covered = schemaPointers
      .get(entry)
      ?.some((p) => issue.pointer === p || issue.pointer.startsWith(`${p}/`));
    if (!covered) entry.issues.push(issue);
  }
  for (const entry of entries)
    diagnostics.push(...unique(entry.issues).map((issue) => toDiagnostic(entry, issue)));
  diagnostics.sort(compareDiagnostics);
  const invalidCount = entries.filter(hasErrors).length;
  return {
    files: files.length,
    unreadableFiles,
    yamlErrorFiles,
    resourceCount: entries.length,
    invalidCount,
    resources: resources.filter((r) => {
      const entry = byResource.get(r);
      return entry !== undefined && !hasErrors(entry);
    }),
    diagnostics,
  };
}

function checkDocument(parsed: ParsedFile, document: number, value: unknown): Entry {
  const entry = (kind: Kind | undefined, name: string | undefined, issues: Issue[]): Entry => ({
    parsed,
    document,
    kind,
    name,
    value,
    issues,
  });
  if (typeof value !== 'object' || Array.isArray(value)) {
    const found = Array.isArray(value) ? 'a list' : `${typeof value} ${JSON.stringify(value)}`.slice(0, 60);
    return entry(undefined, undefined, [
      {
        pointer: '',
        message: `a manifest must be a mapping with apiVersion, kind, metadata and spec; found ${found}`,
      },
    ]);
  }
  const record = value as Record<string, unknown>;
  const meta = record.metadata as Record<string, unknown> | undefined;
  const name = typeof meta?.name === 'string' && meta.name !== '' ? meta.name : undefined;
  if (record.kind === undefined)
    return entry(undefined, name, [
      { pointer: '', message: `missing required field "kind" (one of ${KINDS.join(', ')})` },
    ]);
  if (typeof record.kind !== 'string') {
    const found = Array.isArray(record.kind)
      ? 'a list'
      : record.kind === null
        ? 'null'
        : `a ${typeof record.kind}`;
    return entry(undefined, name, [
      { pointer: '/kind', message: `must be a string, one of ${KINDS.join(', ')} (got ${found})` },
    ]);
  }
  if (!isKind(record.kind)) {
    const kind = record.kind;
    return entry(undefined, name, [
      {
        pointer: '/kind',
        message: `unknown kind "${kind}"${didYouMean(kind, KINDS)} (kinds: ${KINDS.join(', ')})`,
      },
    ]);
  }
  return entry(record.kind, name, validateSchema(record.kind, value));
}

function collectNames(entries: readonly Entry[]): Map<Kind, Set<string>> {
  const names = new Map<Kind, Set<string>>(KINDS.map((k) => [k, new Set<string>()]));
  for (const e of entries) if (e.kind !== undefined && e.name !== undefined) names.get(e.kind)?.add(e.name);
  return names;
}

/** The second and later definitions of a Kind/name are errors that point back at the first. */
function markDuplicates(entries: readonly Entry[]): void {
  const first = new Map<string, Entry>();
  for (const e of entries) {
    if (e.kind === undefined || e.name === undefined) continue;
    const key = address(e.kind, e.name);
    const earlier = first.get(key);
    if (earlier === undefined) {
      first.set(key, e);
      continue;
    }
    const at = earlier.parsed.sourceMap().locate(earlier.document, '/metadata/name').start;
    e.issues.push({
      pointer: '/metadata/name',
      message: `duplicate: ${key} is already defined at ${earlier.parsed.file}:${at.line}:${at.column}`,
    });
  }
}

/** The same finding reached by two checks (own settings, then resolved settings) is reported once. */
function unique(issues: readonly Issue[]): Issue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.pointer}\u0000${i.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function hasErrors(e: Entry): boolean {
  return e.issues.some((i) => i.severity !== 'warning');
}

function toResource(e: Entry): Resource {
  return {
    kind: e.kind as Kind,
    name: e.name as string,
    file: e.parsed.file,
    document: e.document,
    manifest: e.value as Manifest,
  };
}

function toDiagnostic(e: Entry, issue: Issue): Diagnostic {
  const range = e.parsed.sourceMap().locate(e.document, issue.pointer, issue.atKey === true);
  const where =
    e.kind !== undefined && e.name !== undefined
      ? address(e.kind, e.name)
      : `${e.kind ?? 'document'} #${e.document + 1}`;
  return {
    severity: issue.severity ?? 'error',
    file: e.parsed.file,
    range,
    address: where,
    pointer: issue.pointer,
    message: issue.message,
  };
}

function fileStart(file: string): Omit<Diagnostic, 'message'> {
  return {
    severity: 'error',
    file,
    range: { start: { line: 1, column: 1, offset: 0 }, end: { line: 1, column: 1, offset: 0 } },
  };
}

/** `N resources in M files: V valid, I invalid`, with the files that could not be read or parsed. */
export function validationSummary(r: ValidationResult): string {
  const files = `${r.files} ${r.files === 1 ? 'file' : 'files'}`;
  const resources = `${r.resourceCount} ${r.resourceCount === 1 ? 'resource' : 'resources'}`;
  const notes = [
    r.unreadableFiles > 0 ? `${plural(r.unreadableFiles, 'file')} could not be read` : '',
    r.yamlErrorFiles > 0 ? `${plural(r.yamlErrorFiles, 'file')} with YAML errors` : '',
  ].filter((n) => n !== '');
  const suffix = notes.length > 0 ? ` (${notes.join(', ')})` : '';
  return `${resources} in ${files}: ${r.resourceCount - r.invalidCount} valid, ${r.invalidCount} invalid${suffix}`;
}

function plural(n: number, word: string): string {
  return `${n} ${n === 1 ? word : `${word}s`}`;
}
