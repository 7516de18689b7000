import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AGE_SUFFIX } from '../../encryption/dump-encryption.ts';
import { DUMP_FILE_NAMES } from '../dump/pg-dump-args.ts';
import { readBackupManifest } from '../files/backup-manifest.ts';
import { hashFile } from '../files/hashed-file.ts';
import { dumpLayout } from '../files/layout.ts';
import { ownDirsExist } from '../files/own-dirs.ts';
import { lastAlive } from '../files/owner-mark.ts';
import { failedEnd, type RunEnd } from './record-run.ts';

export const INTERRUPTED =
  'interrupted: the process taking this dump stopped before it finished (found by a later run)';

/** What locates a run's files: the fields its directory name is made of. */
export interface RunPlace {
  readonly id: string;
  readonly node: string;
  readonly database: string | null;
  readonly code: string;
  readonly name: string;
  readonly startedAt: Date;
}

/**
 * The end to record for a run whose process stopped before recording it. A run that got as far as renaming
 * its directory into place finished its dump: its files are hashed now and it is recorded SUCCEEDED. Any
 * other run is FAILED, finished when it was last known alive (its owner mark's heartbeat, else its start),
 * and its partial directory is removed.
 */
export async function recoverRun(root: string, run: RunPlace): Promise<RunEnd> {
  const layout = dumpLayout(
    root,
    run.node,
    run.database ?? undefined,
    run.code,
    run.name,
    run.startedAt,
    run.id,
  );
  // Through a symlinked or foreign directory its files could be anything, anywhere: not trusted, not removed.
  if (!ownDirsExist(root, ...layout.parents)) return failedEnd(new Date(), INTERRUPTED);
  const finished = await stat(layout.dir).catch(() => undefined);
  if (finished?.isDirectory()) {
    const names = await readdir(layout.dir);
    // Encrypted, every file carries `.age`.
    const dumpFile = DUMP_FILE_NAMES.flatMap((f) => [f, f + AGE_SUFFIX]).find((f) => names.includes(f));
    const suffix = dumpFile?.endsWith(AGE_SUFFIX) ? AGE_SUFFIX : '';
    const roles = `roles.sql${suffix}`;
    const config = `config.sql${suffix}`;
    if (dumpFile !== undefined) {
      const sha256: Record<string, unknown> = {};
      let bytes = 0;
      const dump = join(layout.dir, dumpFile);
      if ((await stat(dump)).isDirectory()) {
        const files: Record<string, string> = {};
        for (const f of (await readdir(dump)).sort()) {
          const h = await hashFile(join(dump, f));
          files[f] = h.sha256;
          bytes += h.bytes;
        }
        sha256[dumpFile] = files;
      } else {
        const h = await hashFile(dump);
        sha256[dumpFile] = h.sha256;
        bytes = h.bytes;
      }
      for (const f of [roles, config].filter((x) => names.includes(x)))
        sha256[f] = (await hashFile(join(layout.dir, f))).sha256;
      // The run's own backup.json (written before the rename) knows when it finished and with which versions;
      // the checksums are still the ones just taken. Without a readable one of this run: the folder's mtime.
      const own = await readBackupManifest(layout.dir).then(
        (m) => (m.runId === run.id ? m : undefined),
        () => undefined,
      );
      const known = {
        pgDumpVersion: own?.pgDumpVersion ?? null,
        serverVersion: own?.serverVersion ?? null,
        databaseBytes: own?.databaseBytes ?? null,
      };
      return {
        ...failedEnd(own === undefined ? finished.mtime : new Date(own.finishedAt), '', known),
        status: 'SUCCEEDED',
        error: null,
        dumpBytes: bytes,
        dumpPath: dump,
        logPath: names.includes('dump.log') ? join(layout.dir, 'dump.log') : null,
        rolesPath: names.includes(roles) ? join(layout.dir, roles) : null,
        configPath: names.includes(config) ? join(layout.dir, config) : null,
        sha256,
        // The recipients and plaintext checksums only backup.json knows; without them no restore can check the plaintext.
        encryption: own?.encryption ?? null,
      };
    }
  }
  // Not now: the time between its death and this recovery was no part of its run.
  const alive = await lastAlive(layout.partial);
  await rm(layout.partial, { recursive: true, force: true });
  const finishedAt = alive !== undefined && alive > run.startedAt ? alive : run.startedAt;
  return failedEnd(finishedAt, INTERRUPTED);
}
