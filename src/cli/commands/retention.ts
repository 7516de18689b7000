import { existsSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { DEFAULT_SECRETS_DIR } from '../../backup/dump/read-password-file.ts';
import { rootDirectoryOf } from '../../backup/files/layout.ts';
import type { CatalogueObject } from '../../catalogue/list-objects.ts';
import { requireCurrentSchema } from '../../catalogue/migrate.ts';
import { withCatalogue } from '../../catalogue/open-catalogue.ts';
import { retentionServers } from '../../catalogue/run-retention.ts';
import { compactRunTallies } from '../../catalogue/run-stats.ts';
import { PgbackmanError } from '../../errors.ts';
import { planInBatches } from '../../retention/plan-batches.ts';
import type { PlannedDump } from '../../retention/retention-plan.ts';
import { sweepRetention } from '../../retention/sweep.ts';
import { strayFinder } from '../../retention/unknown-dirs.ts';
import type { AllowedDestination } from '../../storage/allowed-destinations.ts';
import { copyRemover } from '../../storage/remove-copies.ts';
import { askApproval } from '../ask-approval.ts';
import { ExitCode } from '../exit-codes.ts';
import { humanBytes } from '../human-bytes.ts';
import type { Output } from '../output.ts';
import { groupOf, type PlanWriter, planJsonWriter, planTextWriter } from '../retention-text.ts';
import { utcText } from '../schedule-text.ts';

export interface RetentionFlags {
  readonly server?: string;
  /** `retention plan --at TIME`: the rules read as if it were then. */
  readonly at?: string;
  readonly output?: 'text' | 'json';
  readonly autoApprove?: boolean;
  /** retention apply: where copies at further destinations may be deleted, and their keys read from. */
  readonly secretsDir?: string;
  readonly allowedDestinations?: readonly AllowedDestination[];
}

/**
 * `pgbackman retention plan`: a dry run, every dump with keep or delete and its reasons; changes nothing.
 * Read and written a batch of definitions at a time, so a catalogue of millions of runs fits in memory.
 */
export async function runRetentionPlan(
  location: string,
  names: readonly string[],
  flags: RetentionFlags,
  output: Output,
): Promise<ExitCode> {
  const now = flags.at === undefined ? Date.now() : parseAt(flags.at);
  // A plan's live data is small but it allocates its output's size: V8 collects the old generation once it
  // doubles rather than letting it grow up to fourfold (1,000,000 dumps: ~160 MiB instead of ~185, as fast;
  // the agent's 20% gave ~140 MiB but cost a fifth more time).
  setFlagsFromString('--heap-growing-percent=100');
  // Only where a server's root is on this host can its stray files be seen, and only by a plan of every
  // definition: with names, every other definition's dumps would look unknown.
  const local = (s: CatalogueObject<'BackupServer'>) =>
    names.length === 0 &&
    (flags.server === undefined || s.name === flags.server) &&
    existsSync(rootDirectoryOf(s.spec));
  await withCatalogue(location, 'retention plan', async (db) => {
    await requireCurrentSchema(db);
    // Each local root is listed before the runs are read, and what they name is struck off as it comes;
    // the paths of a root's runs are read only when it holds dump directories to strike off.
    let strays = strayFinder([]);
    const plan = await planInBatches(db, { ...serverOf(flags), ...namesOf(names) }, now, (servers) => {
      const here = servers.filter(local);
      strays = strayFinder(here.map((s) => rootDirectoryOf(s.spec)));
      return here.filter((s) => strays.holdsDumps(rootDirectoryOf(s.spec))).map((s) => s.name);
    });
    let writer: PlanWriter | undefined;
    for await (const batch of plan.batches()) {
      // Nothing is written before the first batch is read: a failure to read leaves no half a plan.
      writer ??= flags.output === 'json' ? planJsonWriter(output.out) : planTextWriter(output.out, now);
      for (const group of batch.groups) {
        writer.dumps(group.dumps);
        for (const path of group.paths) strays.known(path);
      }
    }
    writer ??= flags.output === 'json' ? planJsonWriter(output.out) : planTextWriter(output.out, now);
    const unknown = strays.unknown();
    writer.end(plan.summary, unknown);
  });
  return ExitCode.Ok;
}

/** `pgbackman retention apply`: deletes exactly what the plan says now, after `yes` or --auto-approve. */
export async function runRetentionApply(
  location: string,
  names: readonly string[],
  flags: RetentionFlags,
  output: Output,
): Promise<ExitCode> {
  return withCatalogue(location, 'retention apply', async (db) => {
    await requireCurrentSchema(db);
    const filter = { ...serverOf(flags), ...namesOf(names) };
    const now = Date.now();
    // Read a batch of definitions at a time, as the plan is: only the deletions are held until approved.
    const plan = await planInBatches(db, filter, now, () => []);
    const servers = await retentionServers(db, filter);
    if (flags.server === undefined && servers.length > 1)
      throw new PgbackmanError(
        'USAGE',
        `the dumps belong to ${servers.length} backup servers (${servers.join(', ')}): name the one on this host with --server`,
      );
    // Only the host that holds a server's root deletes its dumps: elsewhere, say so before planning.
    const here = plan.servers.find((s) => s.name === (flags.server ?? servers[0]));
    if (here !== undefined && servers.length > 0 && !existsSync(rootDirectoryOf(here.spec)))
      throw new PgbackmanError(
        'USAGE',
        `BackupServer/${here.name}'s root directory ${rootDirectoryOf(here.spec)} is not on this host: run retention apply on that server's host; nothing was deleted`,
      );
    const deletions: PlannedDump[] = [];
    let writer: PlanWriter | undefined;
    for await (const batch of plan.batches()) {
      writer ??= planTextWriter(output.out, now);
      for (const group of batch.groups) {
        const doomed = group.dumps.filter((d) => d.action === 'delete');
        writer.dumps(doomed);
        for (const d of doomed) deletions.push(d);
      }
    }
    (writer ?? planTextWriter(output.out, now)).end(plan.summary, []);
    if (plan.summary.delete === 0) return ExitCode.Ok;
    const approved =
      flags.autoApprove === true ||
      (await askApproval(output, 'retention apply', `delete the ${plan.summary.delete} dumps marked -`));
    if (!approved) {
      output.err.write('Retention apply cancelled: nothing was deleted.\n');
      return ExitCode.Failure;
    }
    // Only the server whose root was found here: a run of another one written since is skipped, not swept.
    const roots = new Map(here === undefined ? [] : [[here.name, rootDirectoryOf(here.spec)]]);
    const swept = await sweepRetention(
      db,
      deletions,
      roots,
      copyRemover(db, {
        allowed: flags.allowedDestinations ?? [],
        env: process.env,
        secretsDir: flags.secretsDir ?? DEFAULT_SECRETS_DIR,
      }),
    );
    for (const d of swept.deleted)
      output.out.write(
        `deleted ${d.id} (${groupOf(d)}, ${utcText(d.finishedAt)}): ${d.reasons.join('; ')}\n`,
      );
    for (const s of swept.skipped)
      output.err.write(`warning: kept ${s.dump.id} (${groupOf(s.dump)}): ${s.why}\n`);
    for (const c of swept.copiesLeft)
      output.err.write(`warning: deleted ${c.dump.id}, but not its copy at ${c.destination}: ${c.why}\n`);
    // stats' tallies merged, as the agent's sweep does: a catalogue kept by cron and the CLI alone stays small.
    if (here !== undefined) await compactRunTallies(db, here.name);
    const bytes = swept.deleted.reduce((n, d) => n + (d.bytes ?? 0), 0);
    output.out.write(
      `Retention complete! ${swept.deleted.length} deleted (${humanBytes(bytes)}), ${swept.skipped.length} skipped.\n`,
    );
    return swept.skipped.length === 0 ? ExitCode.Ok : ExitCode.Failure;
  });
}

const serverOf = (flags: RetentionFlags) => (flags.server === undefined ? {} : { server: flags.server });
const namesOf = (names: readonly string[]) => (names.length === 0 ? {} : { names });
function parseAt(text: string): number {
  const at = Date.parse(text);
  if (Number.isNaN(at))
    throw new PgbackmanError(
      'USAGE',
      `--at "${text}" is not a time; use ISO 8601, e.g. 2027-01-01T00:00:00Z`,
    );
  return at;
}
