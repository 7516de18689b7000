import { DEFAULT_SECRETS_DIR } from '../../backup/dump/read-password-file.ts';
import { verifyRun } from '../../backup/verify/verify-run.ts';
import { isGoodRun, listBackups, recordVerification, setCopyOutcome } from '../../catalogue/backup-runs.ts';
import type { Queryable } from '../../catalogue/catalogue-db.ts';
import { copiesOf, type DumpCopy, missingCopies, recordCopy } from '../../catalogue/dump-copies.ts';
import { listObjects } from '../../catalogue/list-objects.ts';
import { requireCurrentSchema } from '../../catalogue/migrate.ts';
import { withCatalogue } from '../../catalogue/open-catalogue.ts';
import { PgbackmanError } from '../../errors.ts';
import type { SpecOf } from '../../manifest/kinds.ts';
import { verifyByRestore } from '../../restore/verify-restore.ts';
import type { AllowedDestination } from '../../storage/allowed-destinations.ts';
import { withReadableDump } from '../../storage/fetch-copy.ts';
import type { RemovalContext } from '../../storage/remove-copies.ts';
import { verifyCopies } from '../../storage/verify-copies.ts';
import { verifyReleased } from '../../storage/verify-released.ts';
import { stopAfter } from '../../system/deadline.ts';
import { ExitCode } from '../exit-codes.ts';
import type { Output } from '../output.ts';
import { resolveBackup } from '../resolve-backup.ts';
import { restoreParties } from '../restore-parties.ts';
import { copyContext } from './restore.ts';

/** `pgbackman verify ID | --all`: re-hash and read each dump; exit 1 when any is missing or corrupt. */
export async function runVerify(
  id: string | undefined,
  all: boolean,
  location: string,
  output: Output,
  copies: RemovalContext & { readonly deep: boolean; readonly identities?: readonly string[] } = {
    deep: false,
    allowed: [],
    env: process.env,
    secretsDir: DEFAULT_SECRETS_DIR,
  },
): Promise<ExitCode> {
  if ((id === undefined) === !all) throw new PgbackmanError('USAGE', 'verify takes one BACKUP_ID, or --all');
  return withCatalogue(location, 'verify', async (db) => {
    await requireCurrentSchema(db);
    // A dump retention is deleting may have lost its files already: not one to find MISSING.
    const backups = all
      ? (await listBackups(db, { good: true, limit: 1_000_000 })).filter((b) => b.deletion === null)
      : [await resolveBackup(db, id as string, { includeDeleted: false })];
    if (backups.length === 0) throw new PgbackmanError('NOT_FOUND', 'no successful backups to verify');
    const [one] = backups;
    // Nothing was promised by a run that failed: there is no dump to find MISSING, and nothing is recorded.
    if (!all && one !== undefined && !isGoodRun(one.status))
      throw new PgbackmanError(
        'INVALID_INPUT',
        `backup ${one.id} is ${one.status}${one.error === null ? '' : ` (${one.error})`}: there is no dump to verify`,
      );
    let bad = 0;
    const servers = new Map<string, Promise<SpecOf<'BackupServer'> | undefined>>();
    const copiesByRun = await copiesOf(
      db,
      backups.map((b) => b.id),
    );
    for (const b of backups) {
      const its = copiesByRun.get(b.id) ?? [];
      if (its.length > 0 && !servers.has(b.server))
        servers.set(
          b.server,
          listObjects(db, 'BackupServer', { name: b.server }).then(([o]) => o?.spec),
        );
      const spec = its.length === 0 ? undefined : await servers.get(b.server);
      const checked = spec === undefined ? [] : await verifyCopies(db, b, its, spec, copies, copies.deep);
      // A dump only staged in the root, released there once every destination held it: what its copies hold.
      const v =
        b.rootCopy === 'KEPT'
          ? await verifyRun(b, { identities: copies.identities ?? [] })
          : await verifyReleased(db, b, spec, checked, copies);
      if (v === null) {
        // None of its copies could be asked (a destination not allowed here, or down): nothing is concluded,
        // and nothing recorded; a failure all the same, for a script.
        bad++;
        output.out.write(
          `${b.id} UNCHECKED: released from the root directory, and none of its copies could be checked: ${checked.map((c) => `${c.destination} (${c.error})`).join('; ') || 'it has no copy recorded'}\n`,
        );
        continue;
      }
      await recordVerification(db, v);
      // A key was given and could not open it: what was asked for was not checked. Recorded OK (its stored
      // bytes are), shown as what it is, so no script reads the line as good.
      const undecryptable =
        v.status === 'OK' && v.plaintext === 'NOT_CHECKED' && (copies.identities ?? []).length > 0;
      // One count per backup, whether the dump or one of its copies failed: the summary adds up.
      if (v.status !== 'OK' || undecryptable || checked.some((c) => c.status !== 'OK')) bad++;
      output.out.write(
        `${b.id} ${undecryptable ? 'UNDECRYPTABLE' : v.status}${v.error === null ? '' : `: ${v.error}`}${v.note === null ? '' : ` (${v.note})`}\n`,
      );
      for (const c of checked) {
        output.out.write(
          `  copy at ${c.destination} ${c.status}${c.error === null ? ` (${c.files} files)` : `: ${c.error}`}\n`,
        );
        // A copy found missing or changed is one to make again: the agent's copy pass does, from the root (or,
        // for a dump released from it, from another copy).
        if (c.status === 'MISSING' || c.status === 'CORRUPT')
          await lostCopy(db, b.id, its, c.destination, `verify: ${c.error}`);
      }
      if (v.status === 'OK' && v.unexpected.length > 0)
        output.err.write(
          `warning: ${b.id}: ${v.unexpected.length === 1 ? 'a file' : 'files'} beside the dump that it did not write (not read by a restore, but not part of the backup either): ${v.unexpected.join(', ')}\n`,
        );
    }
    output.err.write(`${backups.length} verified: ${backups.length - bad} OK, ${bad} failed\n`);
    return bad === 0 ? ExitCode.Ok : ExitCode.Failure;
  });
}

/** `pgbackman verify ID --restore --node N [--probe SQL]`: the restore test; exit 1 unless VERIFIED. */
export async function runVerifyRestore(
  id: string | undefined,
  flags: {
    restore: boolean;
    all: boolean;
    node?: string;
    probe?: string;
    timeout?: number;
    secretsDir?: string | undefined;
    allowedDestinations?: readonly AllowedDestination[];
    identities?: readonly string[];
  },
  location: string,
  output: Output,
): Promise<ExitCode> {
  if (!flags.restore) throw new PgbackmanError('USAGE', '--node, --probe and --timeout go with --restore');
  if (id === undefined || flags.all)
    throw new PgbackmanError('USAGE', 'verify --restore takes one BACKUP_ID (not --all)');
  if (flags.node === undefined)
    throw new PgbackmanError(
      'USAGE',
      'verify --restore needs --node: the node to make the scratch database on',
    );
  const nodeName = flags.node;
  return withCatalogue(location, 'verify', async (db) => {
    await requireCurrentSchema(db);
    const backup = await resolveBackup(db, id, { includeDeleted: false });
    const { target: node, server, source } = await restoreParties(db, backup, nodeName);
    const timeout = flags.timeout;
    const limit = timeout === undefined ? undefined : stopAfter(timeout, `--timeout (${timeout / 1000} s)`);
    const result = await withReadableDump(db, backup, server.spec, copyContext(flags), (run) =>
      verifyByRestore({ backup: run, server, source, node, probe: flags.probe }, db, {
        secretsDir: flags.secretsDir ?? (process.env.PGBACKMAN_SECRETS_DIR || DEFAULT_SECRETS_DIR),
        identities: flags.identities ?? [],
        ...(limit === undefined ? {} : { signal: limit.signal }),
      }),
    ).finally(() => limit?.clear());
    output.out.write(`${backup.id} ${result.status}: ${result.summary}\n`);
    return result.status === 'VERIFIED' ? ExitCode.Ok : ExitCode.Failure;
  });
}

/** A copy verify found missing or changed: recorded FAILED (its files kept, so retention still removes them), the dump SUCCEEDED_PARTIAL. */
async function lostCopy(
  q: Queryable,
  runId: string,
  copies: readonly DumpCopy[],
  destination: string,
  why: string,
) {
  const now = copies.map((c) =>
    c.destination === destination
      ? { ...c, status: 'FAILED' as const, error: why, finishedAt: new Date().toISOString() }
      : c,
  );
  const lost = now.find((c) => c.destination === destination);
  if (lost !== undefined) await recordCopy(q, lost);
  await setCopyOutcome(q, runId, missingCopies(now));
}
