// Renders docs/manifest-reference.md from the schemas: every field of every kind, its type, default and meaning.
import { PG_DUMP_OPTIONS, PG_DUMPALL_OPTIONS, PG_RESTORE_OPTIONS } from '../src/manifest/extra-args.ts';
import { KINDS } from '../src/manifest/kinds.ts';
import { bundleUnionSchema, type JsonSchema } from '../src/manifest/schema-registry.ts';

type Schema = JsonSchema & {
  $ref?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  required?: string[];
  enum?: unknown[];
  const?: unknown;
  oneOf?: Schema[];
  type?: string;
  description?: string;
  default?: unknown;
  pattern?: string;
  minimum?: number;
  maximum?: number;
};

export function renderReference(): string {
  const union = bundleUnionSchema();
  const defs = union.$defs as Record<string, Schema>;
  const resolve = (s: Schema): Schema => {
    const name = s.$ref?.replace('#/$defs/', '');
    if (name === undefined) return s;
    const { $ref: _, ...rest } = s;
    const target = resolve(defs[name] as Schema);
    return { ...target, ...rest, description: rest.description ?? target.description } as Schema;
  };
  const lines = [
    '# Manifest reference',
    '',
    'Generated from `schemas/*.schema.json` by `npm run schemas`; do not edit by hand.',
    'Every manifest has `apiVersion: pgbackman.io/v1`, a `kind`, `metadata` (`name`: a lowercase DNS-1123 label,',
    'unique per kind; optional `labels` and `annotations`) and a `spec`. Unknown fields are errors.',
    "Unset dump settings of a definition come from its node's `defaults`, then its server's `defaults`, then the defaults below.",
    '',
  ];
  for (const kind of KINDS) {
    const schema = defs[kind] as Schema;
    lines.push(
      `## ${kind}`,
      '',
      schema.description ?? '',
      '',
      '| field | type | default | description |',
      '|---|---|---|---|',
    );
    const spec = resolve(schema.properties?.spec as Schema);
    walk(spec, 'spec', lines, resolve);
    lines.push('');
  }
  lines.push(
    '## Extra arguments',
    '',
    'Only these options may appear in `extraArgs` (pg_dump; pg_dumpall for CLUSTER dumps) and in restore `extraArgs`',
    '(pg_restore), written as `--option` or `--option=value` in one list item. Values may not contain',
    "`` ` $ ; | & < > ' \\ ``, control characters or a `..` path segment. Connection, output, format and",
    "what-to-dump options are pgbackman's to set.",
    '',
  );
  for (const [tool, options] of [
    ['pg_dump', PG_DUMP_OPTIONS],
    ['pg_dumpall', PG_DUMPALL_OPTIONS],
    ['pg_restore', PG_RESTORE_OPTIONS],
  ] as const) {
    const list = Object.entries(options)
      .sort()
      .map(([o, k]) => `\`${o}${k === 'value' ? '=VALUE' : ''}\``);
    lines.push(`- **${tool}**: ${list.join(', ')}`);
  }
  return `${lines.join('\n')}\n`;
}

function walk(schema: Schema, path: string, lines: string[], resolve: (s: Schema) => Schema): void {
  for (const [name, raw] of Object.entries(schema.properties ?? {})) {
    const s = resolve(raw);
    const required = schema.required?.includes(name) ? ' **(required)**' : '';
    const def = s.default === undefined ? '' : `\`${JSON.stringify(s.default)}\``;
    const description = (s.description ?? '').replace(/\|/g, '\\|');
    lines.push(`| \`${path}.${name}\`${required} | ${typeOf(s, resolve)} | ${def} | ${description} |`);
    if (s.properties !== undefined) walk(s, `${path}.${name}`, lines, resolve);
  }
}

function typeOf(s: Schema, resolve: (s: Schema) => Schema): string {
  if (s.enum !== undefined) return s.enum.map((v) => `\`${String(v)}\``).join(' \\| ');
  if (s.oneOf !== undefined) return s.oneOf.map((o) => typeOf(resolve(o), resolve)).join(' or ');
  if (s.type === 'array') return `list of ${s.items ? typeOf(resolve(s.items), resolve) : 'values'}`;
  if (s.type === 'object' && s.properties === undefined) return 'map';
  if (s.type === 'integer' && s.minimum !== undefined && s.maximum !== undefined)
    return `integer ${s.minimum}-${s.maximum}`;
  return s.type ?? 'value';
}
