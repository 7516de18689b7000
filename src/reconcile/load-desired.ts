import { isPgbackmanError } from '../errors.ts';
import type { Diagnostic } from '../manifest/diagnostic.ts';
import { validateManifests, validationSummary } from '../manifest/validate-manifests.ts';
import { type DesiredObject, desiredState } from '../plan/desired-state.ts';
import { gitRevision } from '../source/revision.ts';

export interface LoadOptions {
  /** An empty manifest set is a plan to delete every managed object: allowed only when asked for. */
  readonly allowEmpty?: boolean;
  /** The revision to record; by default read from git where the manifests live. */
  readonly revision?: string | null;
}

/** The manifests as a desired state, or why they cannot be one; warnings come with either. */
export type DesiredLoad =
  | {
      readonly ok: true;
      readonly desired: readonly DesiredObject[];
      readonly revision: string | null;
      readonly diagnostics: readonly Diagnostic[];
    }
  | { readonly ok: false; readonly summary: string; readonly diagnostics: readonly Diagnostic[] };

/** Validates the manifests and turns them into the desired state; invalid manifests are never planned. */
export async function loadDesired(paths: readonly string[], options: LoadOptions = {}): Promise<DesiredLoad> {
  // git runs in its own processes while this one validates.
  const pending = options.revision !== undefined ? Promise.resolve(options.revision) : gitRevision(paths);
  try {
    const result = await validateManifests(paths);
    if (result.diagnostics.some((d) => d.severity === 'error'))
      return { ok: false, summary: validationSummary(result), diagnostics: result.diagnostics };
    return {
      ok: true,
      desired: desiredState(result.resources),
      revision: await pending,
      diagnostics: result.diagnostics,
    };
  } catch (err) {
    if (options.allowEmpty && isPgbackmanError(err, 'NO_MANIFESTS'))
      return { ok: true, desired: [], revision: await pending, diagnostics: [] };
    await pending;
    throw err;
  }
}
