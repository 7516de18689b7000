import { PgbackmanError } from '../../errors.ts';
import { KINDS, parseKind } from '../../manifest/kinds.ts';
import { bundleKindSchema, bundleUnionSchema } from '../../manifest/schema-registry.ts';
import { ExitCode } from '../exit-codes.ts';
import type { Output } from '../output.ts';

/** `pgbackman schema [KIND]`: a self-contained JSON Schema, for editors and other tools. */
export function runSchema(kindText: string | undefined, output: Output): ExitCode {
  let schema: object;
  if (kindText === undefined) schema = bundleUnionSchema();
  else {
    const kind = parseKind(kindText);
    if (kind === undefined)
      throw new PgbackmanError('USAGE', `unknown kind "${kindText}"; kinds: ${KINDS.join(', ')}`);
    schema = bundleKindSchema(kind);
  }
  output.out.write(`${JSON.stringify(schema, null, 2)}\n`);
  return ExitCode.Ok;
}
