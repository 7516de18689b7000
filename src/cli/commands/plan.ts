import { requireCurrentSchema } from '../../catalogue/migrate.ts';
import { withCatalogue } from '../../catalogue/open-catalogue.ts';
import { readHead, readStateFor } from '../../catalogue/read-state.ts';
import { diffStates } from '../../plan/diff-states.ts';
import { planJson } from '../../plan/render-json.ts';
import { renderMarkdown } from '../../plan/render-markdown.ts';
import { renderText } from '../../plan/render-text.ts';
import { savePlan } from '../../plan/saved-plan.ts';
import { gitRevision } from '../../source/revision.ts';
import { ExitCode } from '../exit-codes.ts';
import { loadDesired } from '../load-desired.ts';
import type { Output } from '../output.ts';

export interface PlanFlags {
  readonly output: 'text' | 'json' | 'markdown';
  readonly detailedExitcode: boolean;
  readonly out?: string;
  readonly allowEmpty: boolean;
}

/** `pgbackman plan`: what applying the manifests would change in the catalogue; changes nothing. */
export async function runPlan(
  paths: readonly string[],
  location: string,
  flags: PlanFlags,
  output: Output,
): Promise<ExitCode> {
  // git runs in its own processes while this one validates.
  const pending = gitRevision(paths);
  const desired = await loadDesired(paths, output, flags.allowEmpty).catch(async (err) => {
    await pending;
    throw err;
  });
  const revision = await pending;
  return withCatalogue(location, 'plan', async (db) => {
    await requireCurrentSchema(db);
    // One snapshot of the catalogue: the head and the objects are read in the same transaction.
    const { head, actual } = await db.transaction(async (tx) => ({
      head: await readHead(tx),
      actual: await readStateFor(tx, desired),
    }));
    const plan = diffStates(desired, actual, { allowEmpty: flags.allowEmpty });
    switch (flags.output) {
      case 'json':
        output.out.write(`${JSON.stringify(planJson(plan, { ...head, revision }), null, 2)}\n`);
        break;
      case 'markdown':
        output.out.write(renderMarkdown(plan));
        break;
      default:
        output.out.write(renderText(plan, { color: output.color }));
    }
    if (plan.errors.length > 0) return ExitCode.Failure;
    if (flags.out !== undefined) {
      savePlan(flags.out, plan, head, revision);
      output.err.write(
        `Saved the plan to ${flags.out}. To apply exactly this plan: pgbackman apply ${flags.out}\n`,
      );
    }
    return flags.detailedExitcode && plan.changes.length > 0 ? ExitCode.Changes : ExitCode.Ok;
  });
}
