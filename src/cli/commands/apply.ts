import { hostname, userInfo } from 'node:os';
import { createInterface } from 'node:readline/promises';
import { applyPlan } from '../../apply/apply-plan.ts';
import type { CatalogueDb } from '../../catalogue/catalogue-db.ts';
import { lockCatalogue } from '../../catalogue/lock.ts';
import { requireCurrentSchema } from '../../catalogue/migrate.ts';
import { withCatalogue } from '../../catalogue/open-catalogue.ts';
import { readHead, readStateFor } from '../../catalogue/read-state.ts';
import { PgbackmanError } from '../../errors.ts';
import type { Plan } from '../../plan/change.ts';
import { diffStates } from '../../plan/diff-states.ts';
import { planJson } from '../../plan/render-json.ts';
import { renderText } from '../../plan/render-text.ts';
import { checkSavedPlan, isSavedPlanFile, loadPlan } from '../../plan/saved-plan.ts';
import { gitRevision } from '../../source/revision.ts';
import { ExitCode } from '../exit-codes.ts';
import { loadDesired } from '../load-desired.ts';
import type { Output } from '../output.ts';

export interface ApplyFlags {
  readonly autoApprove: boolean;
  readonly allowEmpty: boolean;
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
  if (args.length === 1 && first !== undefined && isSavedPlanFile(first))
    return applySaved(first, location, output);
  // git runs in its own processes while this one validates.
  const pending = gitRevision(args);
  const desired = await loadDesired(args, output, flags.allowEmpty).catch(async (err) => {
    await pending;
    throw err;
  });
  const revision = await pending;
  return withCatalogue(location, 'apply', async (db) => {
    await requireCurrentSchema(db);
    const outcome = await db.transaction(async (tx) => {
      await lockCatalogue(tx);
      const head = await readHead(tx);
      const plan = diffStates(desired, await readStateFor(tx, desired), { allowEmpty: flags.allowEmpty });
      output.out.write(renderText(plan, { color: output.color }));
      if (plan.errors.length > 0)
        throw new PgbackmanError(
          'PLAN_REFUSED',
          'the plan cannot be applied (see above); nothing was changed',
        );
      if (plan.changes.length === 0) return undefined;
      if (!flags.autoApprove) await approve(output);
      const serial = await applyPlan(tx, plan, head, {
        appliedBy: whoAmI(),
        revision,
        planRecord: planJson(plan, { ...head, revision }),
      });
      return { plan, serial };
    });
    if (outcome !== undefined) reportApplied(outcome.plan, outcome.serial, db, output);
    return ExitCode.Ok;
  });
}

async function applySaved(file: string, location: string, output: Output): Promise<ExitCode> {
  const saved = loadPlan(file);
  return withCatalogue(location, 'apply', async (db) => {
    await requireCurrentSchema(db);
    const serial = await db.transaction(async (tx) => {
      await lockCatalogue(tx);
      const head = await readHead(tx);
      checkSavedPlan(saved, head);
      output.out.write(renderText(saved.plan, { color: output.color }));
      if (saved.plan.changes.length === 0) return undefined;
      const record = planJson(saved.plan, { ...head, revision: saved.revision });
      return applyPlan(tx, saved.plan, head, {
        appliedBy: whoAmI(),
        revision: saved.revision,
        planRecord: record,
      });
    });
    if (serial !== undefined) reportApplied(saved.plan, serial, db, output);
    return ExitCode.Ok;
  });
}

async function approve(output: Output): Promise<void> {
  if (!process.stdin.isTTY) {
    throw new PgbackmanError(
      'ABORTED',
      'apply needs approval: run it in a terminal and answer yes, or pass --auto-approve; nothing was changed',
    );
  }
  output.err.write(
    "\nDo you want to perform these actions?\n  pgbackman will perform the actions described above.\n  Only 'yes' will be accepted to approve.\n\n",
  );
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await rl.question('  Enter a value: ');
  rl.close();
  if (answer.trim() !== 'yes') throw new PgbackmanError('ABORTED', 'Apply cancelled; nothing was changed');
}

function reportApplied(plan: Plan, serial: number, db: CatalogueDb, output: Output): void {
  const { add, change, destroy } = plan.summary;
  output.out.write(
    `\nApply complete! Objects: ${add} added, ${change} changed, ${destroy} destroyed. Catalogue ${db.location} is at serial ${serial}.\n`,
  );
}

function whoAmI(): string {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (a container): keep "unknown"
  }
  return `${user}@${hostname()}`;
}
