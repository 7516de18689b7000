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
  /** Errors make a manifest invalid; warnings are printed and do not. Default: error. */
  readonly severity?: 'error' | 'warning';
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
    // The key's own error (with propertyName) already says it; this one only says "property name must be valid".
    if (error.keyword === 'propertyNames') continue;
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
      if (/^pass(word)?$/i.test(field)) {
        return {
          pointer: `${path}/${escapePointer(field)}`,
          atKey: true,
          message: `unknown field "${field}": passwords never go in manifests; use spec.passwordFrom ({env: VARIABLE} or {file: /path}) or libpq's .pgpass`,
        };
      }
      if (/^(secret|access|session)/i.test(field) && /\/storage\/\d+/.test(path)) {
        return {
          pointer: `${path}/${escapePointer(field)}`,
          atKey: true,
          message: `unknown field "${field}": keys never go in manifests; use the destination's credentialsFrom ({env: {accessKeyId: VARIABLE, secretAccessKey: VARIABLE}} or {file: /path}) or the AWS SDK's default chain`,
        };
      }
      const guess = didYouMean(field, known);
      const hint = guess !== '' ? guess : known.length > 0 ? ` (allowed: ${known.join(', ')})` : '';
      return {
        pointer: `${path}/${escapePointer(field)}`,
        atKey: true,
        message: `unknown field "${field}"${hint}`,
      };
    }
    case 'enum':
      return { pointer: path, message: `must be one of ${list(params.allowedValues)} (got ${show(e.data)})` };
    case 'const':
      return { pointer: path, message: `must be ${show(params.allowedValue)} (got ${show(e.data)})` };
    case 'type': {
      const hint = typeHint(String(params.type), e.data);
      return {
        pointer: path,
        message: `must be ${article(String(params.type))} (got ${typeName(e.data)})${hint}`,
      };
    }
    case 'minProperties':
    case 'maxProperties': {
      const keys = Object.keys((e.parentSchema as { properties?: object } | undefined)?.properties ?? {});
      if (keys.length > 0 && e.keyword === 'maxProperties')
        return { pointer: path, message: `give exactly one of ${keys.join(', ')}` };
      return {
        pointer: path,
        message: keys.length > 0 ? `give at least one of ${keys.join(', ')}` : 'must not be empty',
      };
    }
    case 'pattern':
    case 'oneOf': {
      const hint = valueHint(path, e.data) ?? (schema.description ? `: ${schema.description}` : '');
      return { pointer: path, message: `invalid value ${show(e.data)}${hint}` };
    }
    default:
      return { pointer: path, message: e.message ?? `fails ${e.keyword}` };
  }
}

/** A likely fix for a value of the wrong type, from what YAML users commonly write. */
function typeHint(expected: string, data: unknown): string {
  if (expected === 'string' && (typeof data === 'number' || typeof data === 'boolean')) {
    return `; quote it if you mean the text: "${String(data)}"`;
  }
  if (expected === 'boolean' && typeof data === 'string' && /^(yes|no|on|off|y|n)$/i.test(data))
    return '; write true or false';
  return '';
}

/** A likely fix for a value that fails a pattern, or undefined to fall back to the field's description. */
function valueHint(path: string, data: unknown): string | undefined {
  if (typeof data !== 'string') return undefined;
  if (path.endsWith('/host') && /^[^:\s]+:\d+$/.test(data))
    return ': give the host alone and the port in spec.port';
  const interval = /^(\d+)\s*(w|d|h|m)(?:eeks?|ays?|ours?|in(?:ute)?s?)?$/i.exec(data.trim());
  if (interval !== null && data !== `${interval[1]}${interval[2]}`) {
    return `: durations are written like "${interval[1]}${(interval[2] ?? 'd').toLowerCase()}" (units w, d, h, m)`;
  }
  return undefined;
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
