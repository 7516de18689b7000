import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import { watch } from 'chokidar';
import { findManifestFiles } from '../manifest/find-manifest-files.ts';
import type { Fetched, Source } from './source.ts';

/** A directory of manifests, re-read whole on each change; its revision is a digest of its files. */
export function dirSource(dir: string, debounceMs = 500): Source {
  const root = resolve(dir);
  return {
    description: root,
    async fetch(): Promise<Fetched> {
      return { path: root, revision: await digestOf(root) };
    },
    async watch(onChange: () => void) {
      let timer: NodeJS.Timeout | undefined;
      const watcher = watch(root, {
        ignoreInitial: true,
        ignored: (path: string) => /(^|\/)\.[^/]/.test(relative(root, path)),
      });
      watcher.on('all', () => {
        clearTimeout(timer);
        timer = setTimeout(onChange, debounceMs);
      });
      await new Promise<void>((ready) => watcher.once('ready', ready));
      return async () => {
        clearTimeout(timer);
        await watcher.close();
      };
    },
  };
}

/** `sha256:<hex>` over every manifest file's path and bytes, in path order. */
export async function digestOf(root: string): Promise<string> {
  const hash = createHash('sha256');
  const files = await findManifestFiles([root]).catch(() => []);
  for (const file of files) {
    hash.update(relative(root, file)).update('\0');
    hash.update(await readFile(file).catch(() => Buffer.alloc(0))).update('\0');
  }
  return `sha256:${hash.digest('hex')}`;
}
