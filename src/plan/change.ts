import { assertNever } from '../errors.ts';
import type { Kind } from '../manifest/kinds.ts';
import type { Address, ObjectState } from './object-state.ts';

/** One field that differs: a dotted path (`spec.retention.period`) and its values; undefined = absent. */
export interface FieldChange {
  readonly path: string;
  readonly before: unknown;
  readonly after: unknown;
}

interface Base {
  readonly kind: Kind;
  readonly name: string;
  readonly address: Address;
}

/** What the plan does to one object; exhaustive switches over `action` keep renderers and apply in step. */
export type Change =
  | (Base & { readonly action: 'create'; readonly after: ObjectState })
  | (Base & {
      readonly action: 'update';
      readonly before: ObjectState;
      readonly after: ObjectState;
      readonly fields: readonly FieldChange[];
      /** Set when the object was in the catalogue but unmanaged, and the manifests now take it over. */
      readonly adopt: boolean;
    })
  | (Base & {
      readonly action: 'move';
      readonly previousName: string;
      readonly before: ObjectState;
      readonly after: ObjectState;
      readonly fields: readonly FieldChange[];
    })
  | (Base & { readonly action: 'delete'; readonly before: ObjectState });

export type Action = Change['action'];

/** A reason the plan cannot be applied (prevent-destroy, an empty manifest set). */
export interface PlanError {
  readonly address: Address | null;
  readonly summary: string;
  readonly detail: string;
}

/**
 * Not an error: what a plan could not do as the manifests ask (a node a policy selects was not reached, a name
 * a policy would generate is taken), so the plan holds less than it might. `plan -o json`'s `warnings`.
 */
export interface PlanWarning {
  /** The object the warning is about: `BackupPolicy/NAME`. */
  readonly address: string;
  /** node_not_reached: the policy's definitions on that node are kept as they are; name_taken: a database gets none. */
  readonly reason: 'node_not_reached' | 'name_taken';
  readonly node: string;
  readonly database: string | null;
  /** The generated name that is taken (name_taken). */
  readonly name: string | null;
  /** Why the node was not reached: an error code such as NODE_UNREACHABLE (node_not_reached). */
  readonly code: string | null;
  /** The whole warning in words, as printed on stderr after `warning: `. */
  readonly summary: string;
}

/** An object whose manifest hashes differently from the catalogue but means the same (keys reordered). */
export interface HashRefresh {
  readonly kind: Kind;
  readonly name: string;
  /** The manifest's hash, to store so later plans match it without fetching the row. */
  readonly hash: string;
}

export interface Plan {
  /** In the order apply runs them: creates, updates and moves parents first, then deletes children first. */
  readonly changes: readonly Change[];
  /** Not changes: stale stored hashes that apply refreshes without a serial or a history row. */
  readonly refresh: readonly HashRefresh[];
  /** Objects in the catalogue no manifest manages: reported, never deleted. */
  readonly unmanaged: readonly Address[];
  readonly errors: readonly PlanError[];
  readonly summary: PlanSummary;
}

export interface PlanSummary {
  readonly add: number;
  readonly change: number;
  readonly destroy: number;
}

export function summarize(changes: readonly Change[]): PlanSummary {
  let add = 0;
  let change = 0;
  let destroy = 0;
  for (const c of changes) {
    switch (c.action) {
      case 'create':
        add++;
        break;
      case 'update':
      case 'move':
        change++;
        break;
      case 'delete':
        destroy++;
        break;
      default:
        assertNever(c);
    }
  }
  return { add, change, destroy };
}
