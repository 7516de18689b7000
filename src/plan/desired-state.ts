import type { Resource } from '../manifest/resource.ts';
import { hashObject, type ObjectState } from './object-state.ts';

export interface DesiredObject extends ObjectState {
  /** The name this object had before (`spec.previousName`): a rename, planned as a move. */
  readonly previousName: string | undefined;
}

// One empty object for every manifest without labels or annotations (read only).
const NONE: Record<string, never> = Object.freeze({});

/** What the manifests want: one object per resource, with the hash the plan compares. */
export function desiredState(resources: readonly Resource[]): DesiredObject[] {
  return resources.map((r) => {
    const { metadata, spec } = r.manifest;
    const base = {
      kind: r.kind,
      name: r.name,
      spec: spec as Record<string, unknown>,
      labels: (metadata.labels ?? NONE) as Record<string, string>,
      annotations: (metadata.annotations ?? NONE) as Record<string, string>,
    };
    return {
      ...base,
      hash: hashObject(base),
      sourceFile: r.file,
      managed: true,
      previousName: (spec as { previousName?: string }).previousName,
    };
  });
}
