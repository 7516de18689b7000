// Regenerates what is derived from schemas/*.schema.json: the union bundle editors use and the TypeScript types.
// `--check` fails instead of writing when either is stale (run by the tests).
import { readFileSync, writeFileSync } from 'node:fs';
import { compile } from 'json-schema-to-typescript';
import { KINDS } from '../src/manifest/kinds.ts';
import { BUNDLE_FILE, bundleUnionSchema, SCHEMA_DIR } from '../src/manifest/schema-registry.ts';

const TYPES_FILE = new URL('../src/manifest/generated/manifest-types.ts', import.meta.url);

export async function generate(): Promise<{ bundle: string; types: string }> {
  const union = bundleUnionSchema();
  const bundle = `${JSON.stringify(union, null, 2)}\n`;
  // Compile a schema whose root lists every kind, so each gets a named, exported type.
  const forTypes = {
    title: 'Manifest',
    oneOf: KINDS.map((k) => ({ $ref: `#/$defs/${k}` })),
    $defs: Object.fromEntries(
      Object.entries(union.$defs as Record<string, object>).map(([name, def]) => [name, { ...def, title: name }]),
    ),
  };
  const body = await compile(forTypes as never, 'Manifest', {
    bannerComment: '// Generated from schemas/*.schema.json by scripts/build-schemas.ts. DO NOT EDIT.',
    additionalProperties: false,
    unreachableDefinitions: true,
    strictIndexSignatures: true,
    format: true,
    style: { singleQuote: true, printWidth: 110 },
  });
  return { bundle, types: body };
}

const check = process.argv.includes('--check');
const { bundle, types } = await generate();
const targets: [URL, string][] = [
  [new URL(BUNDLE_FILE, SCHEMA_DIR), bundle],
  [TYPES_FILE, types],
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
