import { PgbackmanError } from '../errors.ts';
import { formatDiagnostic } from '../manifest/diagnostic.ts';
import type { DesiredLoad } from '../reconcile/load-desired.ts';
import { type Output, paint } from './output.ts';

/** Prints the findings of loading the manifests, and stops when they are invalid: nothing is planned. */
export function desiredOrExit(load: DesiredLoad, output: Output): Extract<DesiredLoad, { ok: true }> {
  for (const d of load.diagnostics)
    output.err.write(`${paint(output, d.severity === 'error' ? 'red' : 'yellow', formatDiagnostic(d))}\n`);
  if (!load.ok)
    throw new PgbackmanError('INVALID_MANIFESTS', `${load.summary}; nothing was planned or applied`);
  return load;
}
