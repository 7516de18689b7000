import { readFileSync, writeFileSync } from 'node:fs';
import { messageOf, PgbackmanError } from '../errors.ts';
import { looksLikeSavedPlan, parseSavedPlan, type SavedPlan } from '../plan/saved-plan.ts';

/** Writes a saved plan readable only by its owner: it names every object the catalogue will hold. */
export function writeSavedPlan(file: string, saved: SavedPlan): void {
  try {
    writeFileSync(file, `${JSON.stringify(saved, null, 2)}\n`, { mode: 0o600 });
  } catch (err) {
    throw new PgbackmanError('IO', `cannot write the plan to ${file}: ${messageOf(err)}`, {
      cause: err,
    });
  }
}

/** Whether `file` is a saved plan rather than a manifest path. */
export function isSavedPlanFile(file: string): boolean {
  try {
    return looksLikeSavedPlan(readFileSync(file, 'utf8').slice(0, 200));
  } catch {
    return false;
  }
}

export function readSavedPlan(file: string): SavedPlan {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new PgbackmanError('STALE_PLAN', `${file} is not a readable saved plan: ${messageOf(err)}`);
  }
  return parseSavedPlan(text, file);
}
