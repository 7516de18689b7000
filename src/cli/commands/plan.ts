import { withCatalogue } from '../../catalogue/open-catalogue.ts';
import { PgbackmanError } from '../../errors.ts';
import { formatDiagnostic } from '../../manifest/diagnostic.ts';
import type { Plan, PlanWarning } from '../../plan/change.ts';
import { diffStates } from '../../plan/diff-states.ts';
import type { ObjectState } from '../../plan/object-state.ts';
import { type PlanContext, planJson } from '../../plan/render-json.ts';
import { renderMarkdown } from '../../plan/render-markdown.ts';
import { renderText } from '../../plan/render-text.ts';
import { makeSavedPlan } from '../../plan/saved-plan.ts';
import { expandDesired, expansionWarnings, secretsDirOf } from '../../reconcile/expand-desired.ts';
import { loadDesired } from '../../reconcile/load-desired.ts';
import { planDesired } from '../../reconcile/reconcile.ts';
import { writeSavedPlan } from '../../reconcile/saved-plan-file.ts';
import { manifestsAtRef } from '../../source/manifests-at-ref.ts';
import { ExitCode } from '../exit-codes.ts';
import type { Output } from '../output.ts';
import { desiredOrExit } from '../print-diagnostics.ts';

export interface PlanFlags {
  readonly output: 'text' | 'json' | 'markdown';
  readonly detailedExitcode: boolean;
  readonly out?: string;
  readonly allowEmpty: boolean;
  readonly secretsDir?: string | undefined;
  /** Compare with the manifests at this git revision instead of the catalogue. */
  readonly against?: string | undefined;
}

/** `pgbackman plan`: what applying the manifests would change in the catalogue; changes nothing. */
export async function runPlan(
  paths: readonly string[],
  location: string,
  flags: PlanFlags,
  output: Output,
): Promise<ExitCode> {
  if (flags.against !== undefined) {
    if (flags.out !== undefined)
      throw new PgbackmanError(
        'USAGE',
        '--out saves a plan against the catalogue, to apply later; --against compares git revisions only',
      );
    return planAgainst(paths, flags.against, flags, output);
  }
  const { desired, revision } = desiredOrExit(
    await loadDesired(paths, { allowEmpty: flags.allowEmpty }),
    output,
  );
  const { plan, head, warnings, policyDatabases } = await withCatalogue(location, 'plan', async (db) => {
    const expanded = await expandDesired(db, desired, { secretsDir: secretsDirOf(flags.secretsDir) });
    const warnings = expansionWarnings(expanded);
    for (const w of warnings) output.err.write(`warning: ${w.summary}\n`);
    const planned = await planDesired(db, expanded.desired, { allowEmpty: flags.allowEmpty, revision });
    return { ...planned, warnings, policyDatabases: expanded.policyDatabases };
  });
  render(plan, { ...head, revision }, warnings, flags, output);
  if (plan.errors.length > 0) return ExitCode.Failure;
  if (flags.out !== undefined) {
    writeSavedPlan(flags.out, makeSavedPlan(plan, head, revision, new Date(), policyDatabases));
    output.err.write(
      `Saved the plan to ${flags.out}. To apply exactly this plan: pgbackman apply ${flags.out}\n`,
    );
  }
  return flags.detailedExitcode && plan.changes.length > 0 ? ExitCode.Changes : ExitCode.Ok;
}

function render(
  plan: Plan,
  context: PlanContext,
  warnings: readonly PlanWarning[],
  flags: PlanFlags,
  output: Output,
): void {
  const baseline = flags.against;
  switch (flags.output) {
    case 'json':
      output.out.write(`${JSON.stringify(planJson(plan, context, warnings), null, 2)}\n`);
      break;
    case 'markdown':
      output.out.write(renderMarkdown(plan, warnings, baseline));
      break;
    default:
      output.out.write(renderText(plan, { color: output.color, baseline }));
  }
}

/**
 * `plan --against REF`: the working tree's manifests against the same paths at a git revision, for a pull
 * request that cannot reach the catalogue. Nothing is read from a catalogue or a node: a BackupPolicy is
 * compared as written (the definitions it generates depend on the nodes' live databases).
 */
async function planAgainst(
  paths: readonly string[],
  ref: string,
  flags: PlanFlags,
  output: Output,
): Promise<ExitCode> {
  const { desired, revision } = desiredOrExit(
    await loadDesired(paths, { allowEmpty: flags.allowEmpty }),
    output,
  );
  const base = await manifestsAtRef(paths, ref);
  let actual: ObjectState[];
  try {
    const loaded =
      base.paths.length === 0
        ? ({ ok: true, desired: [], revision: base.revision, diagnostics: [] } as const)
        : await loadDesired(base.paths, { allowEmpty: true, revision: base.revision });
    const shown = (file: string) => (file.startsWith(base.prefix) ? file.slice(base.prefix.length) : file);
    if (!loaded.ok) {
      for (const d of loaded.diagnostics)
        if (d.severity === 'error') output.err.write(`${ref}:${shown(formatDiagnostic(d))}\n`);
      throw new PgbackmanError(
        'INVALID_MANIFESTS',
        `the manifests at ${ref} do not validate (${loaded.summary}): there is nothing to compare with`,
      );
    }
    actual = loaded.desired.map((o) => ({
      ...o,
      sourceFile: o.sourceFile === null ? null : shown(o.sourceFile),
    }));
  } finally {
    await base.cleanup();
  }
  const plan = diffStates(desired, actual, { allowEmpty: flags.allowEmpty });
  render(plan, { lineage: null, serial: null, revision, against: base.revision }, [], flags, output);
  if (plan.errors.length > 0) return ExitCode.Failure;
  return flags.detailedExitcode && plan.changes.length > 0 ? ExitCode.Changes : ExitCode.Ok;
}
