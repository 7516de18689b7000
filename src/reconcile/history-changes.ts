import { assertNever } from '../errors.ts';
import type { Action, Plan } from '../plan/change.ts';
import type { Address } from '../plan/object-state.ts';

/** One change as apply_history keeps it: what was done to which object, and which fields changed. */
export interface HistoryChange {
  readonly action: Action;
  readonly address: Address;
  /** Moves only: the address it had before. */
  readonly previous_address?: Address;
  /** The dotted paths of the changed fields (updates and moves; empty for creates and deletes). */
  readonly fields: readonly string[];
}

/**
 * The plan's changes in the compact form apply_history stores: addresses and field paths, not the objects
 * (the whole plan of a 23,000-object apply was most of a second of JSON to write).
 */
export function historyChanges(plan: Plan): HistoryChange[] {
  return plan.changes.map((c): HistoryChange => {
    switch (c.action) {
      case 'create':
      case 'delete':
        return { action: c.action, address: c.address, fields: [] };
      case 'update':
        return { action: c.action, address: c.address, fields: c.fields.map((f) => f.path) };
      case 'move':
        return {
          action: c.action,
          address: c.address,
          previous_address: `${c.kind}/${c.previousName}`,
          fields: c.fields.map((f) => f.path),
        };
      default:
        return assertNever(c);
    }
  });
}
