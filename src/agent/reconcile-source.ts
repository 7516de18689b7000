import { relative } from 'node:path';
import type { CatalogueDb } from '../catalogue/catalogue-db.ts';
import { unreachableReason } from '../catalogue/unreachable.ts';
import { isPgbackmanError, messageOf, retryClassOf } from '../errors.ts';
import { type Diagnostic, formatDiagnostic } from '../manifest/diagnostic.ts';
import { expandDesired, expansionWarnings } from '../reconcile/expand-desired.ts';
import { loadDesired } from '../reconcile/load-desired.ts';
import { applyDesired, planDesired } from '../reconcile/reconcile.ts';
import type { CommitInfo } from '../source/revision.ts';
import type { Fetched } from '../source/source.ts';
import type { ReconcileOutcome } from './conditions.ts';

/** How many diagnostics a failed revision's message quotes; the rest are counted. */
const QUOTED = 5;
/** Agents of one catalogue apply the same revision together: the later ones wait for the first, then find nothing to do. */
const LOCK_WAIT_MS = 10_000;

export interface ReconcileStep {
  readonly fetched: Fetched;
  /** Where file names are read from, so messages say `manifests/x.yaml:3:5` as `validate` in the repository would. */
  readonly root: string;
  readonly apply: boolean;
  readonly appliedBy: string;
  /** The only directory passwordFrom.file may read from, for the policies' nodes. */
  readonly secretsDir?: string;
  /** The revision's commit (author, subject) for the history, asked of git before the catalogue's turn. */
  readonly commit?: CommitInfo | null;
}

/** validate → plan → apply for one fetched revision; every failure becomes an outcome, never a throw. */
export async function reconcileRevision(db: CatalogueDb, step: ReconcileStep): Promise<ReconcileOutcome> {
  const { revision, path } = step.fetched;
  let load: Awaited<ReturnType<typeof loadDesired>>;
  try {
    load = await loadDesired([path], { revision });
  } catch (err) {
    return { kind: 'invalid', revision, message: messageOf(err).replaceAll(`${step.root}/`, '') };
  }
  if (!load.ok)
    return { kind: 'invalid', revision, message: quote(load.diagnostics, load.summary, step.root) };
  try {
    const expanded = await expandDesired(db, load.desired, {
      ...(step.secretsDir === undefined ? {} : { secretsDir: step.secretsDir }),
    });
    const desired = expanded.desired;
    const said = expansionWarnings(expanded).map((w) => w.summary);
    const warnings = said.length > 0 ? { warnings: said } : {};
    if (!step.apply) {
      const planned = await planDesired(db, desired, { revision });
      return { kind: 'observed', revision, serial: planned.head.serial, ...warnings };
    }
    const applied = await applyDesired(db, desired, {
      revision,
      commit: step.commit ?? null,
      appliedBy: step.appliedBy,
      lockWaitMs: LOCK_WAIT_MS,
    });
    switch (applied.outcome) {
      case 'applied':
        return {
          kind: 'applied',
          revision,
          serial: applied.serial,
          changes: applied.plan.changes.length,
          ...warnings,
        };
      case 'unchanged':
        return { kind: 'unchanged', revision, serial: applied.head.serial, ...warnings };
      case 'refused':
      case 'declined':
        return {
          kind: 'refused',
          revision,
          message: applied.plan.errors.map((e) => `${e.summary}: ${e.detail}`).join('; '),
        };
    }
  } catch (err) {
    if (
      unreachableReason(err) !== undefined ||
      (isPgbackmanError(err) && retryClassOf(err.code) === 'transient')
    )
      return { kind: 'catalogue-failed', revision, message: messageOf(err) };
    return { kind: 'refused', revision, message: messageOf(err) };
  }
}

/** The first diagnostics exactly as `validate` prints them, with paths relative to the repository. */
function quote(diagnostics: readonly Diagnostic[], summary: string, root: string): string {
  const errors = diagnostics.filter((d) => d.severity === 'error');
  const lines = errors.slice(0, QUOTED).map((d) => formatDiagnostic({ ...d, file: relative(root, d.file) }));
  if (errors.length > QUOTED) lines.push(`... and ${errors.length - QUOTED} more`);
  lines.push(summary);
  return lines.join('\n');
}
