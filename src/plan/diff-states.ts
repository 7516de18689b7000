import { KINDS } from '../manifest/kinds.ts';
import {
  type Change,
  type FieldChange,
  type HashRefresh,
  type Plan,
  type PlanError,
  summarize,
} from './change.ts';
import type { DesiredObject } from './desired-state.ts';
import { type Address, addressOf, canonicalJson, type ObjectState, preventsDestroy } from './object-state.ts';

export interface DiffOptions {
  /** Allow an empty manifest set to delete every managed object. */
  readonly allowEmpty?: boolean;
}

/**
 * The plan that turns `actual` (the catalogue) into `desired` (the manifests). Pure: no I/O.
 * Creates, updates and moves run parents first; deletes run children first, after everything else.
 */
export function diffStates(
  desired: readonly DesiredObject[],
  actual: readonly ObjectState[],
  options: DiffOptions = {},
): Plan {
  const changes: Change[] = [];
  const deletes: Change[] = [];
  const errors: PlanError[] = [];
  const refresh: HashRefresh[] = [];
  const unmanaged: Address[] = [];
  for (const kind of KINDS) {
    const want = desired.filter((o) => o.kind === kind);
    const have = new Map(actual.filter((o) => o.kind === kind).map((o) => [o.name, o]));
    const wanted = new Set(want.map((o) => o.name));
    const movedFrom = new Set<string>();
    for (const d of want) {
      const current = have.get(d.name);
      const previous = d.previousName === undefined ? undefined : have.get(d.previousName);
      if (current === undefined && previous !== undefined && !wanted.has(previous.name)) {
        movedFrom.add(previous.name);
        changes.push({
          kind,
          name: d.name,
          address: addressOf(d),
          action: 'move',
          previousName: previous.name,
          before: previous,
          after: d,
          fields: fieldChanges(previous, d),
        });
      } else if (current === undefined) {
        changes.push({ kind, name: d.name, address: addressOf(d), action: 'create', after: d });
      } else if (current.hash !== d.hash || !current.managed) {
        const fields = fieldChanges(current, d);
        if (fields.length > 0 || !current.managed) {
          changes.push({
            kind,
            name: d.name,
            address: addressOf(d),
            action: 'update',
            before: current,
            after: d,
            fields,
            adopt: !current.managed,
          });
        } else {
          refresh.push({ kind, name: d.name, hash: d.hash });
        }
      }
    }
    for (const a of have.values()) {
      if (wanted.has(a.name) || movedFrom.has(a.name)) continue;
      if (!a.managed) {
        unmanaged.push(addressOf(a));
        continue;
      }
      if (preventsDestroy(a)) {
        errors.push({
          address: addressOf(a),
          summary: `${addressOf(a)} cannot be destroyed`,
          detail: `${addressOf(a)} has lifecycle.preventDestroy (or the annotation pgbackman.io/prevent-destroy: "true") set, but the manifests no longer define it, so the plan would destroy it. To continue, put it back in the manifests, or set preventDestroy to false, apply, and then remove it.`,
        });
      }
      deletes.push({ kind, name: a.name, address: addressOf(a), action: 'delete', before: a });
    }
  }
  // Sorted once here, not per object: only the changes, usually few, pay for a stable order.
  changes.sort((x, y) => KINDS.indexOf(x.kind) - KINDS.indexOf(y.kind) || byName(x, y));
  deletes.sort((x, y) => KINDS.indexOf(y.kind) - KINDS.indexOf(x.kind) || byName(x, y));
  unmanaged.sort();
  errors.sort((x, y) => (x.address ?? '').localeCompare(y.address ?? ''));
  if (desired.length === 0 && deletes.length > 0 && options.allowEmpty !== true) {
    errors.push({
      address: null,
      summary: 'the manifests are empty',
      detail: `No manifest defines anything, so this plan would destroy all ${deletes.length} managed objects in the catalogue. If that is what you want, run again with --allow-empty.`,
    });
  }
  const all = [...changes, ...deletes];
  return { changes: all, refresh, unmanaged, errors, summary: summarize(all) };
}

function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** Every leaf that differs between the two objects, as dotted paths; lists compare as whole values. */
export function fieldChanges(before: ObjectState, after: ObjectState): FieldChange[] {
  const out: FieldChange[] = [];
  const walk = (path: string, a: unknown, b: unknown): void => {
    if (isRecord(a) && isRecord(b)) {
      const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
      for (const k of keys) walk(path === '' ? k : `${path}.${k}`, a[k], b[k]);
      return;
    }
    if (isRecord(a) && b === undefined) {
      for (const k of Object.keys(a).sort()) walk(`${path}.${k}`, a[k], undefined);
      return;
    }
    if (a === undefined && isRecord(b)) {
      for (const k of Object.keys(b).sort()) walk(`${path}.${k}`, undefined, b[k]);
      return;
    }
    if (canonicalJson(a) !== canonicalJson(b)) out.push({ path, before: a, after: b });
  };
  for (const part of ['spec', 'labels', 'annotations'] as const) walk(part, before[part], after[part]);
  return out.filter((f) => f.path !== 'spec.previousName');
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
