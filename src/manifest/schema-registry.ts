import { readFileSync } from 'node:fs';
import { KINDS, type Kind, SCHEMA_FILES } from './kinds.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonSchema = { [key: string]: Json };

export const SCHEMA_DIR = new URL('../../schemas/', import.meta.url);
export const COMMON_FILE = 'common.schema.json';
export const BUNDLE_FILE = 'pgbackman.schema.json';
const BASE_ID = 'https://pgbackman.io/schemas/v1/';

export function readSchema(file: string): JsonSchema {
  return JSON.parse(readFileSync(new URL(file, SCHEMA_DIR), 'utf8')) as JsonSchema;
}

/** The source schemas: common definitions plus one per kind, as written in `schemas/`. */
export function readSourceSchemas(): { common: JsonSchema; kinds: Record<Kind, JsonSchema> } {
  const kinds = Object.fromEntries(KINDS.map((k) => [k, readSchema(SCHEMA_FILES[k])])) as Record<
    Kind,
    JsonSchema
  >;
  return { common: readSchema(COMMON_FILE), kinds };
}

/** One kind's schema with the common definitions it uses inlined: what `pgbackman schema KIND` prints. */
export function bundleKindSchema(kind: Kind): JsonSchema {
  const { common, kinds } = readSourceSchemas();
  const body = inlineCommonRefs(kinds[kind]) as JsonSchema;
  return { ...body, $defs: usedDefs(body, commonDefs(common)) };
}

/** Every kind in one self-contained schema that dispatches on `kind`: the editor modeline's target. */
export function bundleUnionSchema(): JsonSchema {
  const { common, kinds } = readSourceSchemas();
  const defs: JsonSchema = { ...commonDefs(common) };
  for (const kind of KINDS) {
    const { $schema: _s, $id: _i, ...body } = kinds[kind];
    defs[kind] = inlineCommonRefs(body);
  }
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: `${BASE_ID}${BUNDLE_FILE}`,
    title: 'pgbackman manifest',
    description:
      'Any pgbackman manifest; the kind field selects the schema. Generated from schemas/*.schema.json.',
    type: 'object',
    required: ['apiVersion', 'kind'],
    properties: { kind: { enum: [...KINDS] } },
    allOf: KINDS.map((kind) => ({
      if: { properties: { kind: { const: kind } }, required: ['kind'] },
      // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then, not a thenable
      then: { $ref: `#/$defs/${kind}` },
    })),
    $defs: defs,
  };
}

function commonDefs(common: JsonSchema): JsonSchema {
  return (inlineCommonRefs(common.$defs ?? {}) as JsonSchema) ?? {};
}

/** Rewrites `common.schema.json#/$defs/x` to `#/$defs/x`, for schemas that carry the definitions themselves. */
function inlineCommonRefs(value: Json): Json {
  if (Array.isArray(value)) return value.map(inlineCommonRefs);
  if (value === null || typeof value !== 'object') return value;
  const out: JsonSchema = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] =
      key === '$ref' && typeof v === 'string' ? v.replace(`${COMMON_FILE}#`, '#') : inlineCommonRefs(v);
  }
  return out;
}

/** The definitions a schema reaches through `#/$defs/...`, transitively. */
function usedDefs(schema: Json, all: JsonSchema): JsonSchema {
  const used: JsonSchema = {};
  const visit = (value: Json): void => {
    if (Array.isArray(value)) {
      for (const item of value) visit(item);
      return;
    }
    if (value === null || typeof value !== 'object') return;
    for (const [key, v] of Object.entries(value)) {
      const name = key === '$ref' && typeof v === 'string' ? /^#\/\$defs\/(.+)$/.exec(v)?.[1] : undefined;
      if (name !== undefined && !(name in used) && all[name] !== undefined) {
        used[name] = all[name];
        visit(all[name]);
      } else visit(v);
    }
  };
  visit(schema);
  return Object.fromEntries(
    Object.keys(all)
      .filter((k) => k in used)
      .map((k) => [k, all[k] ?? null]),
  );
}
