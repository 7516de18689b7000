import { PgbackmanError } from '../errors.ts';
import { formatDiagnostic } from '../manifest/diagnostic.ts';
import { validateManifests } from '../manifest/validate-manifests.ts';
import { type DesiredObject, desiredState } from '../plan/desired-state.ts';
import { summary } from './commands/validate.ts';
import { type Output, paint } from './output.ts';

/** Validates the manifests and turns them into the desired state; invalid manifests are never planned. */
export async function loadDesired(
  paths: readonly string[],
  output: Output,
  allowEmpty: boolean,
): Promise<DesiredObject[]> {
  let result: Awaited<ReturnType<typeof validateManifests>>;
  try {
    result = await validateManifests(paths);
  } catch (err) {
    // An empty manifest set is a plan to delete everything: only with --allow-empty.
    if (
      allowEmpty &&
      err instanceof PgbackmanError &&
      err.code === 'NOT_FOUND' &&
      /no manifest files/.test(err.message)
    )
      return [];
    throw err;
  }
  for (const d of result.diagnostics) {
    output.err.write(`${paint(output, d.severity === 'error' ? 'red' : 'yellow', formatDiagnostic(d))}\n`);
  }
  if (result.diagnostics.some((d) => d.severity === 'error')) {
    throw new PgbackmanError('INVALID_MANIFESTS', `${summary(result)}; nothing was planned or applied`);
  }
  return desiredState(result.resources);
}
