import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { PgbackmanError } from '../errors.ts';
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
  readonly checksum: string;
}

export function savePlan(
  file: string,
  plan: Plan,
  catalogue: SavedPlan['catalogue'],
  revision: string | null,
): void {
  const body = {
    pgbackman_saved_plan: SAVED_PLAN_VERSION as typeof SAVED_PLAN_VERSION,
    created_at: new Date().toISOString(),
    catalogue,
    revision,
    plan,
  };
  const saved: SavedPlan = { ...body, checksum: checksum(body) };
  writeFileSync(file, `${JSON.stringify(saved, null, 2)}\n`, { mode: 0o600 });
}

/** Whether `file` looks like a saved plan rather than a manifest path. */
export function isSavedPlanFile(file: string): boolean {
  try {
    return /^\s*\{\s*"pgbackman_saved_plan"/.test(readFileSync(file, 'utf8').slice(0, 200));
  } catch {
    return false;
  }
}

/** Reads a saved plan and refuses one that was edited after it was saved. */
export function loadPlan(file: string): SavedPlan {
  let saved: SavedPlan;
  try {
    saved = JSON.parse(readFileSync(file, 'utf8')) as SavedPlan;
  } catch (err) {
    throw new PgbackmanError('STALE_PLAN', `${file} is not a readable saved plan: ${(err as Error).message}`);
  }
  const { checksum: recorded, ...body } = saved;
  if (saved.pgbackman_saved_plan !== SAVED_PLAN_VERSION || recorded !== checksum(body)) {
    throw new PgbackmanError(
      'STALE_PLAN',
      `${file} was modified after it was saved (its checksum does not match); make a new plan with \`pgbackman plan --out\``,
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
