import type { DesiredObject } from '../plan/desired-state.ts';
import { hashObject } from '../plan/object-state.ts';
import type { GeneratedDefinition } from './expand-policies.ts';

/**
 * The generated definitions as objects of the desired state. One kept as it was (its node not reached)
 * keeps the hash it was applied with, so the plan leaves it alone; the others are hashed like any manifest's.
 */
export function generatedObjects(
  definitions: readonly GeneratedDefinition[],
  kept: ReadonlyMap<GeneratedDefinition, string>,
  sourceOf: ReadonlyMap<string, string | null>,
): DesiredObject[] {
  return definitions.map((d) => {
    const base = {
      kind: 'BackupDefinition' as const,
      name: d.name,
      spec: d.spec as Record<string, unknown>,
      labels: d.labels,
      annotations: d.annotations,
    };
    return {
      ...base,
      hash: kept.get(d) ?? hashObject(base),
      sourceFile: sourceOf.get(d.policy) ?? null,
      managed: true,
      previousName: undefined,
    };
  });
}
