import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, rm } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { rootDirectoryOf } from '../backup/files/layout.ts';
import { ensureOwnDirs } from '../backup/files/own-dirs.ts';
import type { BackupRun } from '../catalogue/backup-runs.ts';
import type { Queryable } from '../catalogue/catalogue-db.ts';
import { copiesOf } from '../catalogue/dump-copies.ts';
import { messageOf, PgbackmanError } from '../errors.ts';
import type { SpecOf } from '../manifest/kinds.ts';
import { isAllowed } from './allowed-destinations.ts';
import { openDestination } from './open-destination.ts';
import type { RemovalContext } from './remove-copies.ts';
import { furtherDestinationsOf } from './run-destinations.ts';

export interface FetchedCopy {
  /** The run with its paths in the fetched folder: what a restore reads instead of the root's. */
  readonly run: BackupRun;
  /** Where it came from (destination and location), for the user. */
  readonly from: string;
  /** Removes the fetched folder; call it whatever the restore's outcome. */
  readonly remove: () => Promise<void>;
  /** Destinations tried before it, and why each could not serve. */
  readonly tried: readonly string[];
}

/** No copy could be fetched: each destination tried, and why it could not serve. */
export interface NoCopy {
  readonly run?: undefined;
  readonly tried: readonly string[];
}

/**
 * When a dump's folder is gone from the root directory, fetches a copy from the server's further
 * destinations, in their order, into `<root>/.fetch/` (the root's own checks), each file's sha256 checked
 * against what the copy's record says arrived; the restore re-hashes it against the run's checksums after.
 * Undefined when the folder is in the root (the primary first) or no copy could be fetched (`tried` says why).
 */
export async function fetchCopyIfGone(
  q: Queryable,
  run: BackupRun,
  server: SpecOf<'BackupServer'>,
  ctx: RemovalContext,
): Promise<FetchedCopy | NoCopy | undefined> {
  if (run.dumpPath === null) return undefined;
  const folder = dirname(run.dumpPath);
  if (existsSync(folder)) return undefined;
  const root = rootDirectoryOf(server);
  const key = relative(root, folder).split(sep).join('/');
  const order = await furtherDestinationsOf(q, run, server);
  const copies = ((await copiesOf(q, [run.id])).get(run.id) ?? [])
    .filter((c) => c.status === 'COPIED')
    .sort(
      (a, b) =>
        order.findIndex((d) => d.name === a.destination) - order.findIndex((d) => d.name === b.destination),
    );
  const tried: string[] = [];
  for (const c of copies) {
    const d = order.find((x) => x.name === c.destination);
    if (d === undefined || !isAllowed(ctx.allowed, d as Parameters<typeof isAllowed>[1])) {
      tried.push(
        `${c.destination}: ${d === undefined ? 'no longer listed by the server' : 'not allowed (--allow-destination)'}`,
      );
      continue;
    }
    const into = join(
      ensureOwnDirs(root, '.fetch'),
      `${run.id.slice(0, 8)}-${randomBytes(4).toString('hex')}`,
    );
    let destination: ReturnType<typeof openDestination> | undefined;
    try {
      destination = openDestination(d, ctx.env, ctx.secretsDir);
      await mkdir(into, { mode: 0o700 });
      for (const [file, recorded] of Object.entries(c.files ?? {})) {
        const path = join(into, ...file.split('/'));
        await mkdir(dirname(path), { recursive: true, mode: 0o700 });
        const hash = createHash('sha256');
        const out = await open(path, 'wx', 0o600);
        try {
          for await (const chunk of await destination.get(`${key}/${file}`)) {
            hash.update(chunk as Buffer);
            await out.write(chunk as Buffer);
          }
        } finally {
          await out.close();
        }
        const sum = hash.digest('hex');
        if (sum !== recorded.sha256)
          throw new Error(`${file}: sha256 ${sum}, not the ${recorded.sha256} sent`);
      }
      const moved = (p: string | null) => (p === null ? null : join(into, relative(folder, p)));
      return {
        run: {
          ...run,
          dumpPath: moved(run.dumpPath),
          rolesPath: moved(run.rolesPath),
          configPath: moved(run.configPath),
          logPath: moved(run.logPath),
        },
        from: `${c.destination} (${c.location})`,
        remove: () => rm(into, { recursive: true, force: true }),
        tried,
      };
    } catch (err) {
      tried.push(`${c.destination}: ${messageOf(err)}`);
      await rm(into, { recursive: true, force: true });
    } finally {
      destination?.close();
    }
  }
  return { tried };
}

/**
 * Runs `use` on the dump where it can be read: in the root directory, or else a copy fetched from a further
 * destination (removed after); RESTORE_REFUSED, before `use` touches anything, when neither can be had.
 */
export async function withReadableDump<T>(
  q: Queryable,
  run: BackupRun,
  server: SpecOf<'BackupServer'>,
  ctx: RemovalContext,
  use: (run: BackupRun, fetchedFrom: string | undefined) => Promise<T>,
): Promise<T> {
  const fetched = await fetchCopyIfGone(q, run, server, ctx);
  if (fetched === undefined) return use(run, undefined);
  if (fetched.run === undefined)
    throw new PgbackmanError(
      'RESTORE_REFUSED',
      `the dump's folder ${dirname(run.dumpPath as string)} is ${run.rootCopy === 'KEPT' ? 'gone from' : 'released from (it only staged there)'} the root directory, and no copy could be fetched${fetched.tried.length === 0 ? ' (none was made)' : `: ${fetched.tried.join('; ')}`}; nothing on the target was touched`,
    );
  try {
    return await use(fetched.run, fetched.from);
  } finally {
    await fetched.remove();
  }
}
