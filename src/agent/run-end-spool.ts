import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunEnd } from './alert-notifier.ts';

/** Run ends waiting for their messages to be queued, oldest first. */
export interface RunEndSpool {
  /** Adds one; when more than `max` wait, the oldest are dropped and their number returned. */
  add(end: RunEnd, max: number): Promise<number>;
  /**
   * The oldest, and how to remove it once its messages are queued, or to set it aside when the catalogue
   * refuses it (kept as `.bad` on disk, for a person to look at); undefined when none waits.
   */
  first(): Promise<{ end: RunEnd; done(): Promise<void>; setAside(): Promise<void> } | undefined>;
}

export function memorySpool(): RunEndSpool {
  const waiting: RunEnd[] = [];
  return {
    async add(end, max) {
      waiting.push(end);
      return waiting.splice(0, Math.max(0, waiting.length - max)).length;
    },
    async first() {
      const end = waiting[0];
      const drop = async () => void waiting.shift();
      return end === undefined ? undefined : { end, done: drop, setAside: drop };
    },
  };
}

const FILE = /^\d{13}-[0-9a-f]{12}\.json$/;

/**
 * One file per run end in `dir` (0600, written whole under a temporary name, synced, renamed): what waits
 * survives a restart and a SIGKILL. Names sort by time. A file that cannot be read back is set aside as
 * `.bad`, never retried for ever.
 */
export function fileSpool(dir: string): RunEndSpool {
  const names = async () => {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    return (await readdir(dir)).filter((n) => FILE.test(n)).sort();
  };
  return {
    async add(end, max) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const name = `${Date.now()}-${randomBytes(6).toString('hex')}.json`;
      const temporary = join(dir, `.${name}.partial`);
      const file = await open(temporary, 'wx', 0o600);
      try {
        await file.writeFile(JSON.stringify(end));
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(temporary, join(dir, name));
      const all = await names();
      const extra = all.slice(0, Math.max(0, all.length - max));
      for (const n of extra) await rm(join(dir, n), { force: true });
      return extra.length;
    },
    async first() {
      for (const name of await names()) {
        const path = join(dir, name);
        try {
          const end = JSON.parse(await readFile(path, 'utf8')) as RunEnd;
          return {
            end,
            done: () => rm(path, { force: true }),
            setAside: () => rename(path, `${path}.bad`).catch(() => rm(path, { force: true })),
          };
        } catch {
          await rename(path, `${path}.bad`).catch(() => rm(path, { force: true }));
        }
      }
      return undefined;
    },
  };
}
