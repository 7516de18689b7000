import { createHash } from 'node:crypto';
import { dirname, relative, sep } from 'node:path';
import { rootDirectoryOf } from '../backup/files/layout.ts';
import type { BackupRun } from '../catalogue/backup-runs.ts';
import type { Queryable } from '../catalogue/catalogue-db.ts';
import type { DumpCopy } from '../catalogue/dump-copies.ts';
import { messageOf } from '../errors.ts';
import type { SpecOf } from '../manifest/kinds.ts';
import { isAllowed } from './allowed-destinations.ts';
import { openDestination } from './open-destination.ts';
import type { RemovalContext } from './remove-copies.ts';
import { furtherDestinationsOf } from './run-destinations.ts';

export interface CopyCheck {
  readonly destination: string;
  /** UNCHECKED: the destination could not be asked (down, not listed, not allowed); nothing is concluded. */
  readonly status: 'OK' | 'MISSING' | 'CORRUPT' | 'UNCHECKED';
  readonly error: string | null;
  readonly files: number;
}

/**
 * Checks each copy of a dump at its destination, file by file, against what its record says arrived: present,
 * of that size and (S3) that ETag; with `deep`, read back and re-hashed against its sha256 as well.
 */
export async function verifyCopies(
  q: Queryable,
  run: BackupRun,
  copies: readonly DumpCopy[],
  server: SpecOf<'BackupServer'>,
  ctx: RemovalContext,
  deep: boolean,
): Promise<CopyCheck[]> {
  const checks: CopyCheck[] = [];
  const listed = copies.length === 0 ? [] : await furtherDestinationsOf(q, run, server);
  for (const c of copies.filter((x) => x.status === 'COPIED')) {
    const files = Object.entries(c.files ?? {});
    const check = (status: CopyCheck['status'], error: string | null) =>
      checks.push({ destination: c.destination, status, error, files: files.length });
    const d = listed.find((x) => x.name === c.destination);
    if (d === undefined || run.dumpPath === null) {
      check('UNCHECKED', `destination ${c.destination} is no longer listed by the server`);
      continue;
    }
    if (!isAllowed(ctx.allowed, d as Parameters<typeof isAllowed>[1])) {
      check(
        'UNCHECKED',
        `destination ${c.destination} is not one this process may reach: --allow-destination`,
      );
      continue;
    }
    const folder = relative(rootDirectoryOf(server), dirname(run.dumpPath)).split(sep).join('/');
    let destination: ReturnType<typeof openDestination> | undefined;
    try {
      destination = openDestination(d, ctx.env, ctx.secretsDir);
      let problem: { status: 'MISSING' | 'CORRUPT'; error: string } | undefined;
      for (const [file, recorded] of files) {
        const key = `${folder}/${file}`;
        const facts = await destination.head(key);
        if (facts === null) problem = { status: 'MISSING', error: `${file} is missing from ${c.location}` };
        else if (facts.bytes !== recorded.bytes)
          problem = {
            status: 'CORRUPT',
            error: `${file} at ${c.location} holds ${facts.bytes} bytes, not ${recorded.bytes}`,
          };
        else if (recorded.etag !== null && facts.etag !== recorded.etag)
          problem = {
            status: 'CORRUPT',
            error: `${file} at ${c.location} has ETag ${facts.etag}, not ${recorded.etag}: it was replaced`,
          };
        else if (deep) {
          const hash = createHash('sha256');
          for await (const chunk of await destination.get(key)) hash.update(chunk as Buffer);
          const sum = hash.digest('hex');
          if (sum !== recorded.sha256)
            problem = {
              status: 'CORRUPT',
              error: `${file} at ${c.location}: sha256 ${sum} differs from the ${recorded.sha256} sent`,
            };
        }
        if (problem !== undefined) break;
      }
      check(problem?.status ?? 'OK', problem?.error ?? null);
    } catch (err) {
      check('UNCHECKED', messageOf(err));
    } finally {
      destination?.close();
    }
  }
  return checks;
}
