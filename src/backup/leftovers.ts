import { readdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type DumpLayout, dumpLayout, pathSegment } from './layout.ts';
import type { InterruptedRun } from './record-run.ts';

/**
 * Removes the partial directories a stopped process left for this definition: those of the runs the
 * catalogue had as RUNNING, and any other `….partial` of the definition beside the new one (a run whose
 * start only reached the spool). Only call it holding the definition's run lock. Returns the paths it cleared.
 */
export async function removeLeftovers(
  root: string,
  definition: string,
  current: DumpLayout,
  interrupted: readonly InterruptedRun[],
): Promise<string[]> {
  const paths = new Set(
    interrupted.map(
      (r) => dumpLayout(root, r.node, r.database ?? undefined, r.code, definition, r.startedAt, r.id).partial,
    ),
  );
  const parent = dirname(current.partial);
  const ours = new RegExp(
    `^\\d{8}T\\d{6}Z-[A-Z]+-${escapeRegExp(pathSegment(definition))}-[0-9a-f]{8}\\.partial$`,
  );
  const siblings = await readdir(parent).catch(() => [] as string[]);
  for (const name of siblings) if (ours.test(name)) paths.add(join(parent, name));
  paths.delete(current.partial);
  for (const path of paths) await rm(path, { recursive: true, force: true });
  return [...paths];
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
