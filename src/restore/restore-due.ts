import type { SpecOf } from '../manifest/kinds.ts';

/** One RestoreDefinition as the agent reads it: the server that holds its dumps resolved. */
export interface RestoreItem {
  readonly name: string;
  readonly generation: number;
  readonly spec: SpecOf<'RestoreDefinition'>;
}

export interface DueRestores {
  readonly due: readonly RestoreItem[];
  /** When the next one falls due (ms since the epoch), or null when none waits. */
  readonly nextAt: number | null;
}

/**
 * Which restores to run now: each generation of a RestoreDefinition once, at `spec.at` or as soon as it
 * is applied; suspended ones wait. Pure: `done` holds `name@generation` of those already run.
 */
export function dueRestores(
  items: readonly RestoreItem[],
  done: ReadonlySet<string>,
  now: number,
): DueRestores {
  const due: RestoreItem[] = [];
  let nextAt: number | null = null;
  for (const item of items) {
    if (item.spec.suspend === true || done.has(`${item.name}@${item.generation}`)) continue;
    const at = item.spec.at === undefined ? now : Date.parse(item.spec.at);
    if (at <= now) due.push(item);
    else nextAt = nextAt === null ? at : Math.min(nextAt, at);
  }
  due.sort((a, b) => (a.spec.at ?? '').localeCompare(b.spec.at ?? '') || a.name.localeCompare(b.name));
  return { due, nextAt };
}

/** What a RestoreDefinition asks for, with the command line's defaults. */
export function requestOf(spec: SpecOf<'RestoreDefinition'>, dumpDatabase: string, now: Date) {
  const database = spec.target.database ?? dumpDatabase;
  const existing = spec.existing ?? 'fail';
  return {
    database,
    existing,
    renameTo: existing === 'rename' ? (spec.renameExistingTo ?? defaultName(database, now)) : undefined,
    roles: spec.roles ?? 'create-missing',
    config: true,
    jobs: spec.jobs ?? 1,
    terminate: spec.terminateConnections ?? false,
    extraArgs: spec.extraArgs ?? [],
    via: 'manifest',
  } as const;
}

/**
 * Why a RestoreDefinition cannot restore a CLUSTER dump as it is written, or undefined when it can. Validation
 * says so for a definition or snapshot source; a backupId's code is known only once the dump is found.
 */
export function clusterRefusal(spec: SpecOf<'RestoreDefinition'>): string | undefined {
  const misfits = [
    spec.target.database !== undefined ? 'target.database' : undefined,
    spec.renameExistingTo !== undefined ? 'renameExistingTo' : undefined,
    (spec.jobs ?? 1) > 1 ? 'jobs' : undefined,
    (spec.extraArgs?.length ?? 0) > 0 ? 'extraArgs' : undefined,
  ].filter((f) => f !== undefined);
  if (misfits.length === 0) return undefined;
  return `the dump is a CLUSTER dump, which restores every database of its node under its own name, with psql: ${misfits.join(', ')} ${misfits.length === 1 ? 'does not apply to it; remove it' : 'do not apply to it; remove them'}`;
}

import { defaultRenameTo as defaultName } from './restore-steps.ts';
