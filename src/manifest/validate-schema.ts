import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import * as generated from './generated/schema-validators.ts';
import type { Kind } from './kinds.ts';
import { didYouMean } from './suggest.ts';

/** A finding inside one resource: where (JSON pointer, and whether at the key) and what. */
export interface Issue {
  readonly pointer: string;
  readonly message: string;
  /** Point at the key rather than the value (an unknown field). */
  readonly atKey?: boolean;
}

// Compiled ahead of time by scripts/build-schemas.ts (`npm run schemas`); a test fails when they are stale.
const validators = generated as unknown as Record<Kind, ValidateFunction>;

/** Checks one resource against its kind's JSON Schema; every problem at once, in words a person can act on. */
export function validateSchema(kind: Kind, value: unknown): Issue[] {
  const validate = validators[kind];
  if (validate(value)) return [];
  return explain(validate.errors ?? []);
}

function explain(errors: readonly ErrorObject[]): Issue[] {
  // A oneOf failure already says what is wanted; the per-branch errors beneath it are noise.
  const oneOfPaths = new Set(errors.filter((e) => e.keyword === 'oneOf').map((e) => e.instancePath));
  const seen = new Set<string>();
  const issues: Issue[] = [];
  for (const error of errors) {
    if (error.keyword !== 'oneOf' && oneOfPaths.has(error.instancePath)) continue;
    const issue = describe(error);
    const key = `${issue.pointer}\u0000${issue.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push(issue);
  }
  return issues;
}

function describe(e: ErrorObject): Issue {
  const path = e.instancePath;
  const params = e.params as Record<string, unknown>;
  const schema = (e.parentSchema ?? {}) as { description?: string; default?: unknown };
  const propertyName = (e as { propertyName?: string }).propertyName;
  if (propertyName !== undefined) {
    return {
      pointer: `${path}/${escapePointer(propertyName)}`,
      atKey: true,
      message: `invalid key "${propertyName}"`,
    };
  }
  switch (e.keyword) {
    case 'required':
      return { pointer: path, message: `missing required field "${String(params.missingProperty)}"` };
    case 'additionalProperties': {
      const field = String(params.additionalProperty);
      const known = Object.keys((e.parentSchema as { properties?: object } | undefined)?.properties ?? {});
      const guess = didYouMean(field, known);
      const hint = guess !== '' ? guess : known.length > 0 ? ` (allowed: ${known.join(', ')})` : '';
      return { pointer: `${path}/${escapePointer(field)}`, atKey: true, message: `unknown field "${field}"${hint}` };
    }
    case 'enum':
      return { pointer: path, message: `must be one of ${list(params.allowedValues)} (got ${show(e.data)})` };
    case 'const':
      return { pointer: path, message: `must be ${show(params.allowedValue)} (got ${show(e.data)})` };
    case 'type':
      return { pointer: path, message: `must be ${article(String(params.type))} (got ${typeName(e.data)})` };
    case 'pattern':
    case 'oneOf':
    case 'minProperties':
    case 'maxProperties':
      return {
        pointer: path,
        message: `invalid value ${show(e.data)}${schema.description ? `: ${schema.description}` : ''}`,
      };
    default:
      return { pointer: path, message: e.message ?? `fails ${e.keyword}` };
  }
}

function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

function list(values: unknown): string {
  return Array.isArray(values) ? values.map((v) => String(v)).join(', ') : String(values);
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${show(value)}`;
}

function article(type: string): string {
  const words: Record<string, string> = { object: 'a mapping', array: 'a list', integer: 'an integer' };
  return type
    .split(',')
    .map((t) => words[t] ?? `a ${t}`)
    .join(' or ');
}
