// Regenerates what is derived from schemas/*.schema.json: the union bundle editors use, the TypeScript types,
// the compiled validators and docs/manifest-reference.md. `--check` fails instead of writing when any is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import standaloneCode from 'ajv/dist/standalone/index.js';
import { compile } from 'json-schema-to-typescript';
import { KINDS } from '../src/manifest/kinds.ts';
import {
  BUNDLE_FILE,
  bundleUnionSchema,
  readSourceSchemas,
  SCHEMA_DIR,
} from '../src/manifest/schema-registry.ts';
import { renderReference } from './render-reference.ts';

const GENERATED = new URL('../src/manifest/generated/', import.meta.url);
const BANNER = '// Generated from schemas/*.schema.json by scripts/build-schemas.ts. DO NOT EDIT.';

/** Ajv's validators compiled ahead of time: compiling them costs more than validating a whole repository. */
function validatorsModule(): string {
  const { common, kinds } = readSourceSchemas();
  const ajv = new Ajv2020({
    allErrors: true,
    strict: true,
    verbose: true,
    allowUnionTypes: true,
    code: { source: true, esm: true },
  });
  ajv.addSchema(common);
  for (const kind of KINDS) ajv.addSchema(kinds[kind]);
  const refs = Object.fromEntries(KINDS.map((k) => [k, kinds[k].$id as string]));
  let code = standaloneCode.default(ajv, refs);
  const imports: string[] = [];
  // Ajv's standalone ESM output still require()s its runtime helpers; turn those into imports.
  code = code.replace(/require\("([^"]+)"\)\.default/g, (_, module: string) => {
    const name = `runtime${imports.length}`;
    imports.push(`import ${name}Module from '${module}.js';\nconst ${name} = ${name}Module.default;`);
    return name;
  });
  return `${BANNER}\n// @ts-nocheck\n${imports.join('\n')}\n${code.replace(/^"use strict";/, '')}\n`;
}

export async function generate(): Promise<{
  bundle: string;
  types: string;
  validators: string;
  reference: string;
}> {
  const union = bundleUnionSchema();
  const bundle = `${JSON.stringify(union, null, 2)}\n`;
  // Compile a schema whose root lists every kind, so each gets a named, exported type.
  const forTypes = {
    title: 'Manifest',
    oneOf: KINDS.map((k) => ({ $ref: `#/$defs/${k}` })),
    $defs: Object.fromEntries(
      Object.entries(union.$defs as Record<string, object>).map(([name, def]) => [
        name,
        { ...def, title: name },
      ]),
    ),
  };
  const body = await compile(forTypes as never, 'Manifest', {
    bannerComment: BANNER,
    additionalProperties: false,
    unreachableDefinitions: true,
    strictIndexSignatures: true,
    format: true,
    style: { singleQuote: true, printWidth: 110 },
  });
  return { bundle, types: body, validators: validatorsModule(), reference: renderReference() };
}

const check = process.argv.includes('--check');
const { bundle, types, validators, reference } = await generate();
const targets: [URL, string][] = [
  [new URL(BUNDLE_FILE, SCHEMA_DIR), bundle],
  [new URL('manifest-types.ts', GENERATED), types],
  [new URL('schema-validators.ts', GENERATED), validators],
  [new URL('../docs/manifest-reference.md', import.meta.url), reference],
];
let stale = 0;
for (const [url, content] of targets) {
  const current = (() => {
    try {
      return readFileSync(url, 'utf8');
    } catch {
      return '';
    }
  })();
  if (current === content) continue;
  if (check) {
    console.error(`${url.pathname} is stale: run npm run schemas`);
    stale++;
  } else writeFileSync(url, content);
}
process.exitCode = stale > 0 ? 1 : 0;
