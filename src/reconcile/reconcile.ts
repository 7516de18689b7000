import type { CatalogueDb } from '../catalogue/catalogue-db.ts';
import { lockCatalogue } from '../catalogue/lock.ts';
import { requireCurrentSchema } from '../catalogue/migrate.ts';
import { type CatalogueHead, readHead, readStateFor } from '../catalogue/read-state.ts';
import type { Plan } from '../plan/change.ts';
import type { DesiredObject } from '../plan/desired-state.ts';
import { diffStates } from '../plan/diff-states.ts';
import { checkSavedPlan, type SavedPlan } from '../plan/saved-plan.ts';
import type { CommitInfo } from '../source/revision.ts';
import { applyPlan } from './apply-plan.ts';
import { refreshHashes } from './refresh-hashes.ts';

/** What a plan was made against: the catalogue's head and the revision of the manifests. */
export interface Planned {
  readonly plan: Plan;
  readonly head: CatalogueHead;
  readonly revision: string | null;
}

/** How an apply ended; the caller renders it (the CLI) or reports it (the agent). */
export type ApplyOutcome =
  /** The plan breaks a safety rule (plan.errors): nothing was changed. */
  | ({ readonly outcome: 'refused' } & Planned)
  /** The catalogue already matches. */
  | ({ readonly outcome: 'unchanged' } & Planned)
  /** Whoever was asked to approve said no: nothing was changed. */
  | ({ readonly outcome: 'declined' } & Planned)
  | ({ readonly outcome: 'applied'; readonly serial: number } & Planned);

export interface ApplyOptions {
  readonly allowEmpty?: boolean;
  readonly revision: string | null;
  /** Who applies, for the history (`user@host`, or the agent's name). */
  readonly appliedBy: string;
  /** The revision's commit, for the history. */
  readonly commit?: CommitInfo | null;
  /** Asked with the plan, inside the transaction that holds the lock; the agent approves everything. */
  readonly approve?: (planned: Planned) => Promise<boolean>;
  /** How long to wait for another apply to finish (the agent, whose peers apply the same revision); 0 fails at once. */
  readonly lockWaitMs?: number;
}

/** The plan that applying `desired` would carry out; reads one snapshot of the catalogue, changes nothing. */
export async function planDesired(
  db: CatalogueDb,
  desired: readonly DesiredObject[],
  options: { allowEmpty?: boolean; revision: string | null },
): Promise<Planned> {
  await requireCurrentSchema(db);
  // The head and the objects are read in the same transaction.
  const { head, actual } = await db.transaction(async (tx) => ({
    head: await readHead(tx),
    actual: await readStateFor(tx, desired),
  }));
  const plan = diffStates(desired, actual, { allowEmpty: options.allowEmpty ?? false });
  return { plan, head, revision: options.revision };
}

/** Plans and applies `desired` in one transaction under the catalogue's apply lock. */
export async function applyDesired(
  db: CatalogueDb,
  desired: readonly DesiredObject[],
  options: ApplyOptions,
): Promise<ApplyOutcome> {
  await requireCurrentSchema(db);
  return db.transaction(async (tx) => {
    await lockCatalogue(tx, options.lockWaitMs ?? 0);
    const head = await readHead(tx);
    const plan = diffStates(desired, await readStateFor(tx, desired), {
      allowEmpty: options.allowEmpty ?? false,
    });
    const planned: Planned = { plan, head, revision: options.revision };
    if (plan.errors.length > 0) return { outcome: 'refused', ...planned };
    if (plan.changes.length === 0) {
      // Stale hashes are no change a user sees: refreshed without asking, a serial or a history row.
      await refreshHashes(tx, plan.refresh);
      return { outcome: 'unchanged', ...planned };
    }
    if (options.approve !== undefined && !(await options.approve(planned)))
      return { outcome: 'declined', ...planned };
    const serial = await applyPlan(tx, plan, head, {
      appliedBy: options.appliedBy,
      revision: options.revision,
      commit: options.commit,
    });
    return { outcome: 'applied', serial, ...planned };
  });
}

/** Applies exactly a saved plan, refused (STALE_PLAN) when the catalogue moved on since it was made. */
export async function applySavedPlan(
  db: CatalogueDb,
  saved: SavedPlan,
  options: { appliedBy: string; commit?: CommitInfo | null },
): Promise<ApplyOutcome> {
  await requireCurrentSchema(db);
  return db.transaction(async (tx) => {
    await lockCatalogue(tx);
    const head = await readHead(tx);
    checkSavedPlan(saved, head);
    // A plan saved before refreshes were planned has none.
    const plan: Plan = { ...saved.plan, refresh: saved.plan.refresh ?? [] };
    const planned: Planned = { plan, head, revision: saved.revision };
    if (plan.changes.length === 0) {
      await refreshHashes(tx, plan.refresh);
      return { outcome: 'unchanged', ...planned };
    }
    const serial = await applyPlan(tx, plan, head, {
      appliedBy: options.appliedBy,
      revision: saved.revision,
      commit: options.commit,
    });
    return { outcome: 'applied', serial, ...planned };
  });
}
