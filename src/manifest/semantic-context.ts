import type { Kind } from './kinds.ts';
import type { ResourceOf } from './resource.ts';
import type { Issue } from './validate-schema.ts';

/** What a semantic check of one resource can see and do. */
export interface SemanticContext {
  /** Records a finding at `pointer`; `undefined` (a check that passed) records nothing. */
  report(pointer: string, message: string | undefined, severity?: Issue['severity']): void;
  /** Checks that `Kind/name` exists in the manifest set, reporting it at `pointer` when not. */
  ref(pointer: string, kind: Kind, name: string | undefined): void;
  /** The schema-valid resource `Kind/name`, if there is one. */
  get<K extends Kind>(kind: K, name: string | undefined): ResourceOf<K> | undefined;
  /** Every resource of a kind. */
  all<K extends Kind>(kind: K): readonly ResourceOf<K>[];
}
