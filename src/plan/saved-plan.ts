import { createHash } from 'node:crypto';
import { messageOf, PgbackmanError } from '../errors.ts';
import type { PolicyDatabases } from '../policy/policy-databases.ts';
import type { Plan } from './change.ts';
import { canonicalJson } from './object-state.ts';

export const SAVED_PLAN_VERSION = 1;

/** What `plan --out` writes: the plan, the catalogue it was made against, and a checksum of both. */
export interface SavedPlan {
  readonly pgbackman_saved_plan: typeof SAVED_PLAN_VERSION;
  readonly created_at: string;
  readonly catalogue: { readonly lineage: string; readonly serial: number };
  readonly revision: string | null;
  readonly plan: Plan;
  /**
   * With policies: the databases they selected on each node the plan reached, so that applying it can tell
   * whether they changed since. Absent in plans saved before it was recorded, and without policies.
   */
  readonly policy_databases?: readonly PolicyDatabases[];
  readonly checksum: string;
}

export function makeSavedPlan(
  plan: Plan,
  catalogue: SavedPlan['catalogue'],
  revision: string | null,
  now: Date,
  policyDatabases: readonly PolicyDatabases[] = [],
): SavedPlan {
  const body = {
    pgbackman_saved_plan: SAVED_PLAN_VERSION as typeof SAVED_PLAN_VERSION,
    created_at: now.toISOString(),
    catalogue,
    revision,
    plan,
    ...(policyDatabases.length === 0 ? {} : { policy_databases: policyDatabases }),
  };
  return { ...body, checksum: checksum(body) };
}

/** Whether a file's first characters look like a saved plan rather than a manifest. */
export function looksLikeSavedPlan(head: string): boolean {
  return /^\s*\{\s*"pgbackman_saved_plan"/.test(head);
}

/** Parses a saved plan and refuses one that was edited after it was saved; `name` says where it came from. */
export function parseSavedPlan(text: string, name: string): SavedPlan {
  let saved: SavedPlan;
  try {
    saved = JSON.parse(text) as SavedPlan;
  } catch (err) {
    throw new PgbackmanError('STALE_PLAN', `${name} is not a readable saved plan: ${messageOf(err)}`);
  }
  const { checksum: recorded, ...body } = saved;
  if (saved.pgbackman_saved_plan !== SAVED_PLAN_VERSION || recorded !== checksum(body)) {
    throw new PgbackmanError(
      'STALE_PLAN',
      `${name} was modified after it was saved (its checksum does not match); make a new plan with \`pgbackman plan --out\``,
    );
  }
  return saved;
}

/** Terraform's rules: another lineage is another catalogue; another serial means someone applied since. */
export function checkSavedPlan(saved: SavedPlan, current: { lineage: string; serial: number }): void {
  if (saved.catalogue.lineage !== current.lineage) {
    throw new PgbackmanError(
      'STALE_PLAN',
      `Saved plan does not match the given catalogue: it was made for catalogue ${saved.catalogue.lineage}, this is ${current.lineage}`,
    );
  }
  if (saved.catalogue.serial !== current.serial) {
    throw new PgbackmanError(
      'STALE_PLAN',
      `Saved plan is stale: the catalogue was changed by another apply after the plan was made (serial ${saved.catalogue.serial}, now ${current.serial}); make a new plan`,
    );
  }
}

function checksum(body: object): string {
  return createHash('sha256').update(canonicalJson(body)).digest('hex');
}
