import { assertNever } from '../errors.ts';
import type { Change, Plan, PlanWarning } from './change.ts';
import type { ObjectState } from './object-state.ts';

export const PLAN_FORMAT_VERSION = '1.0';

export interface PlanContext {
  readonly lineage: string | null;
  readonly serial: number | null;
  readonly revision: string | null;
  /** plan --against: the git revision compared with, instead of a catalogue. */
  readonly against?: string;
}

/**
 * The documented, versioned plan structure (docs/cli.md) for scripts: one entry per object, as Terraform's
 * resource_changes; `warnings` (added within format 1.0) what the policies' expansion could not do.
 */
export function planJson(plan: Plan, context: PlanContext, warnings: readonly PlanWarning[] = []) {
  return {
    format_version: PLAN_FORMAT_VERSION,
    catalogue: { lineage: context.lineage, serial: context.serial },
    revision: context.revision,
    ...(context.against === undefined ? {} : { against: context.against }),
    applyable: plan.errors.length === 0,
    summary: plan.summary,
    changes: plan.changes.map(changeJson),
    unmanaged: plan.unmanaged,
    errors: plan.errors,
    warnings: warnings.map((w) => ({
      address: w.address,
      reason: w.reason,
      node: w.node,
      database: w.database,
      name: w.name,
      code: w.code,
      summary: w.summary,
    })),
  };
}

function changeJson(c: Change) {
  const base = { address: c.address, kind: c.kind, name: c.name };
  switch (c.action) {
    case 'create':
      return {
        ...base,
        previous_address: null,
        actions: ['create'],
        reason: 'not in the catalogue',
        before: null,
        after: state(c.after),
        fields: [],
      };
    case 'update':
      return {
        ...base,
        previous_address: null,
        actions: ['update'],
        reason: c.adopt ? 'unmanaged object taken over by a manifest' : 'manifest changed',
        before: state(c.before),
        after: state(c.after),
        fields: c.fields,
      };
    case 'move':
      return {
        ...base,
        previous_address: `${c.kind}/${c.previousName}`,
        actions: c.fields.length > 0 ? ['move', 'update'] : ['move'],
        reason: 'spec.previousName',
        before: state(c.before),
        after: state(c.after),
        fields: c.fields,
      };
    case 'delete':
      return {
        ...base,
        previous_address: null,
        actions: ['delete'],
        reason: 'not in the manifests',
        before: state(c.before),
        after: null,
        fields: [],
      };
    default:
      return assertNever(c);
  }
}

function state(o: ObjectState) {
  return {
    spec: o.spec,
    labels: o.labels,
    annotations: o.annotations,
    hash: o.hash,
    source_file: o.sourceFile,
  };
}
