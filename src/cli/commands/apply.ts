import { withCatalogue } from '../../catalogue/open-catalogue.ts';
import { assertNever, PgbackmanError } from '../../errors.ts';
import { renderText } from '../../plan/render-text.ts';
import { checkPlanDatabases } from '../../reconcile/check-plan-databases.ts';
import { expandDesired, expansionWarnings, secretsDirOf } from '../../reconcile/expand-desired.ts';
import { loadDesired } from '../../reconcile/load-desired.ts';
import { type ApplyOutcome, applyDesired, applySavedPlan } from '../../reconcile/reconcile.ts';
import { isSavedPlanFile, readSavedPlan } from '../../reconcile/saved-plan-file.ts';
import { commitInfo } from '../../source/revision.ts';
import { whoAmI } from '../../system/who-am-i.ts';
import { askApproval } from '../ask-approval.ts';
import { ExitCode } from '../exit-codes.ts';
import type { Output } from '../output.ts';
import { desiredOrExit } from '../print-diagnostics.ts';

export interface ApplyFlags {
  readonly autoApprove: boolean;
  readonly allowEmpty: boolean;
  readonly secretsDir?: string | undefined;
}

/**
 * `pgbackman apply`: plans and applies in one transaction under the catalogue lock, after a `yes`
 * (or --auto-approve); or applies exactly a saved plan, refusing it when the catalogue moved on.
 */
export async function runApply(
  args: readonly string[],
  location: string,
  flags: ApplyFlags,
  output: Output,
): Promise<ExitCode> {
  const [first] = args;
  if (args.length === 1 && first !== undefined && isSavedPlanFile(first)) {
    const saved = readSavedPlan(first);
    const outcome = await withCatalogue(location, 'apply', async (db) => {
      // The policies' databases, asked again: a plan made with other ones is stale.
      const warnings = await checkPlanDatabases(db, saved, { secretsDir: secretsDirOf(flags.secretsDir) });
      for (const w of warnings) output.err.write(`warning: ${w}\n`);
      const commit = await commitInfo('.', saved.revision);
      return applySavedPlan(db, saved, { appliedBy: whoAmI(), commit }).then((o) => ({ o, at: db.location }));
    });
    return report(outcome.o, outcome.at, output, true);
  }
  const { desired, revision } = desiredOrExit(
    await loadDesired(args, { allowEmpty: flags.allowEmpty }),
    output,
  );
  const commit = await commitInfo(args[0] ?? '.', revision);
  const outcome = await withCatalogue(location, 'apply', async (db) => {
    // The nodes are asked before the transaction and its lock.
    const expanded = await expandDesired(db, desired, { secretsDir: secretsDirOf(flags.secretsDir) });
    for (const w of expansionWarnings(expanded)) output.err.write(`warning: ${w.summary}\n`);
    return applyDesired(db, expanded.desired, {
      allowEmpty: flags.allowEmpty,
      revision,
      commit,
      appliedBy: whoAmI(),
      // The plan is shown before the question, while the transaction holds the lock.
      approve: async ({ plan }) => {
        output.out.write(renderText(plan, { color: output.color }));
        return flags.autoApprove || askApproval(output, 'apply', 'perform the actions described above');
      },
    }).then((o) => ({ o, at: db.location }));
  });
  return report(outcome.o, outcome.at, output, false);
}

function report(o: ApplyOutcome, location: string, output: Output, printPlan: boolean): ExitCode {
  switch (o.outcome) {
    case 'refused':
      output.out.write(renderText(o.plan, { color: output.color }));
      throw new PgbackmanError('PLAN_REFUSED', 'the plan cannot be applied (see above); nothing was changed');
    case 'unchanged':
      output.out.write(renderText(o.plan, { color: output.color }));
      return ExitCode.Ok;
    case 'declined':
      throw new PgbackmanError('ABORTED', 'Apply cancelled; nothing was changed');
    case 'applied': {
      if (printPlan) output.out.write(renderText(o.plan, { color: output.color }));
      const { add, change, destroy } = o.plan.summary;
      output.out.write(
        `\nApply complete! Objects: ${add} added, ${change} changed, ${destroy} destroyed. Catalogue ${location} is at serial ${o.serial}.\n`,
      );
      return ExitCode.Ok;
    }
    default:
      return assertNever(o, 'apply outcome');
  }
}
