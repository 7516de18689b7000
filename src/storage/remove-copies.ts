import { dirname, relative, sep } from 'node:path';
import { rootDirectoryOf } from '../backup/files/layout.ts';
import type { Queryable } from '../catalogue/catalogue-db.ts';
import { copiesOf, markCopyDeleted, noteCopyLeft } from '../catalogue/dump-copies.ts';
import { listObjects } from '../catalogue/list-objects.ts';
import { messageOf } from '../errors.ts';
import type { SpecOf } from '../manifest/kinds.ts';
import { type AllowedDestination, isAllowed } from './allowed-destinations.ts';
import { openDestination } from './open-destination.ts';
import { furtherDestinationsOf } from './run-destinations.ts';

export interface CopyRemoval {
  /** Destinations whose copy is gone now. */
  readonly removed: readonly string[];
  /** Copies still there, and why: retried by the agent's next pass over deleted dumps. */
  readonly left: readonly { readonly destination: string; readonly why: string }[];
}

export interface RemovalContext {
  readonly allowed: readonly AllowedDestination[];
  readonly env: NodeJS.ProcessEnv;
  readonly secretsDir: string;
}

/**
 * Removes, from every destination, the files a deleted dump's copies hold there (those its record lists, and
 * nothing else), and records each copy DELETED. A destination that is down, no longer listed or not allowed
 * keeps its files for now; the copy's row says why, and stays until a later pass removes them.
 */
export async function removeCopies(
  q: Queryable,
  run: {
    readonly id: string;
    readonly dumpPath: string | null;
    readonly definition: string | null;
    readonly snapshot: string | null;
  },
  server: SpecOf<'BackupServer'>,
  ctx: RemovalContext,
): Promise<CopyRemoval> {
  const removed: string[] = [];
  const left: { destination: string; why: string }[] = [];
  const copies = ((await copiesOf(q, [run.id])).get(run.id) ?? []).filter((c) => c.status !== 'DELETED');
  const listed = copies.length === 0 ? [] : await furtherDestinationsOf(q, run, server);
  for (const c of copies) {
    const files = Object.keys(c.files ?? {});
    if (files.length === 0 || run.dumpPath === null) {
      await markCopyDeleted(q, run.id, c.destination);
      continue;
    }
    const d = listed.find((x) => x.name === c.destination);
    const why =
      d === undefined
        ? `destination ${c.destination} is no longer listed by the server: its files at ${c.location} stay there`
        : isAllowed(ctx.allowed, d as Parameters<typeof isAllowed>[1])
          ? undefined
          : `destination ${c.destination} is not one this agent's operator allows (--allow-destination): its files at ${c.location} stay there`;
    if (d === undefined || why !== undefined) {
      left.push({ destination: c.destination, why: why as string });
      await noteCopyLeft(q, run.id, c.destination, why as string);
      continue;
    }
    const folder = relative(rootDirectoryOf(server), dirname(run.dumpPath)).split(sep).join('/');
    let destination: ReturnType<typeof openDestination> | undefined;
    try {
      destination = openDestination(d, ctx.env, ctx.secretsDir);
      for (const file of files) await destination.delete(`${folder}/${file}`);
      await markCopyDeleted(q, run.id, c.destination);
      removed.push(c.destination);
    } catch (err) {
      const reason = `its files at ${c.location} could not be deleted: ${messageOf(err)}`;
      left.push({ destination: c.destination, why: reason });
      await noteCopyLeft(q, run.id, c.destination, reason);
    } finally {
      destination?.close();
    }
  }
  return { removed, left };
}

/** removeCopies for the sweeps of one catalogue: each server's spec read once. */
export function copyRemover(
  q: Queryable,
  ctx: RemovalContext,
): (run: Parameters<typeof removeCopies>[1], server: string) => Promise<CopyRemoval> {
  const specs = new Map<string, Promise<SpecOf<'BackupServer'> | undefined>>();
  return async (run, server) => {
    let spec = specs.get(server);
    if (spec === undefined) {
      spec = listObjects(q, 'BackupServer', { name: server }).then(([o]) => o?.spec);
      specs.set(server, spec);
    }
    const found = await spec;
    return found === undefined ? { removed: [], left: [] } : removeCopies(q, run, found, ctx);
  };
}
