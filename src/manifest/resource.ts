import type { Manifest } from './generated/manifest-types.ts';
import type { Kind } from './kinds.ts';

/** A manifest that passed its schema, and where it came from. */
export interface Resource<M extends Manifest = Manifest> {
  readonly kind: Kind;
  readonly name: string;
  readonly file: string;
  /** The index of its YAML document in the file (0-based). */
  readonly document: number;
  readonly manifest: M;
}

export type ResourceOf<K extends Kind> = Resource<Extract<Manifest, { kind: K }>>;

export function address(kind: string, name: string): string {
  return `${kind}/${name}`;
}
