import { withCatalogue } from '../../catalogue/open-catalogue.ts';
import { planJson } from '../../plan/render-json.ts';
import { renderMarkdown } from '../../plan/render-markdown.ts';
import { renderText } from '../../plan/render-text.ts';
import { makeSavedPlan } from '../../plan/saved-plan.ts';
import { expandDesired, expansionWarnings, secretsDirOf } from '../../reconcile/expand-desired.ts';
import { loadDesired } from '../../reconcile/load-desired.ts';
import { planDesired } from '../../reconcile/reconcile.ts';
import { writeSavedPlan } from '../../reconcile/saved-plan-file.ts';
import { ExitCode } from '../exit-codes.ts';
import type { Output } from '../output.ts';
import { desiredOrExit } from '../print-diagnostics.ts';

export interface PlanFlags {
  readonly output: 'text' | 'json' | 'markdown';
  readonly detailedExitcode: boolean;
  readonly out?: string;
  readonly allowEmpty: boolean;
  readonly secretsDir?: string | undefined;
}

/** `pgbackman plan`: what applying the manifests would change in the catalogue; changes nothing. */
export async function runPlan(
  paths: readonly string[],
  location: string,
  flags: PlanFlags,
  output: Output,
): Promise<ExitCode> {
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
  switch (flags.output) {
    case 'json':
      output.out.write(`${JSON.stringify(planJson(plan, { ...head, revision }, warnings), null, 2)}\n`);
      break;
    case 'markdown':
      output.out.write(renderMarkdown(plan, warnings));
      break;
    default:
      output.out.write(renderText(plan, { color: output.color }));
  }
  if (plan.errors.length > 0) return ExitCode.Failure;
  if (flags.out !== undefined) {
    writeSavedPlan(flags.out, makeSavedPlan(plan, head, revision, new Date(), policyDatabases));
    output.err.write(
      `Saved the plan to ${flags.out}. To apply exactly this plan: pgbackman apply ${flags.out}\n`,
    );
  }
  return flags.detailedExitcode && plan.changes.length > 0 ? ExitCode.Changes : ExitCode.Ok;
}
