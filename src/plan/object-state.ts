import { hash } from 'node:crypto';
import type { Kind } from '../manifest/kinds.ts';

/** One object as the plan sees it, on either side: what the manifests want, or what the catalogue holds. */
export interface ObjectState {
  readonly kind: Kind;
  readonly name: string;
  readonly spec: Readonly<Record<string, unknown>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  /**
   * sha256 of the JSON of spec, labels and annotations as written: equal hashes mean nothing to change.
   * Unequal hashes are compared field by field, so reordering keys in a manifest changes nothing.
   */
  readonly hash: string;
  readonly sourceFile: string | null;
  /** False for objects in the catalogue that no manifest created: never deleted by a plan. */
  readonly managed: boolean;
}

export type Address = `${Kind}/${string}`;

export function addressOf(o: { kind: Kind; name: string }): Address {
  return `${o.kind}/${o.name}`;
}

export function hashObject(o: Pick<ObjectState, 'spec' | 'labels' | 'annotations'>): string {
  // Plain JSON.stringify: canonicalising 23,000 objects cost more than the rest of the diff.
  return hash('sha256', JSON.stringify([o.spec, o.labels, o.annotations]), 'hex');
}

/** JSON with object keys sorted, so equal values always serialize (and hash) the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Whether deleting this object must be refused (`lifecycle.preventDestroy` or the annotation). */
export function preventsDestroy(o: ObjectState): boolean {
  const lifecycle = o.spec.lifecycle as { preventDestroy?: boolean } | undefined;
  return lifecycle?.preventDestroy === true || o.annotations['pgbackman.io/prevent-destroy'] === 'true';
}
