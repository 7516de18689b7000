import { rootDirectoryOf } from '../../backup/files/layout.ts';
import { requireCurrentSchema } from '../../catalogue/migrate.ts';
import { withCatalogue } from '../../catalogue/open-catalogue.ts';
import { PgbackmanError } from '../../errors.ts';
import { purgePlan } from '../../retention/purge-plan.ts';
import { readRetentionInput } from '../../retention/read-retention.ts';
import { sweepRetention } from '../../retention/sweep.ts';
import { whoAmI } from '../../system/who-am-i.ts';
import { ExitCode } from '../exit-codes.ts';
import { humanBytes } from '../human-bytes.ts';
import type { Output } from '../output.ts';
import { groupOf, planText, summaryText } from '../retention-text.ts';
import { utcText } from '../schedule-text.ts';

/**
 * `pgbackman purge NAME --confirm`: every dump of a definition or snapshot that is no longer in the
 * catalogue, the newest good ones too; pinned and running dumps stay. Without --confirm it only shows them.
 */
export async function runPurge(
  location: string,
  name: string,
  flags: { readonly server?: string; readonly confirm: boolean },
  output: Output,
): Promise<ExitCode> {
  return withCatalogue(location, 'purge', async (db) => {
    await requireCurrentSchema(db);
    const input = await readRetentionInput(db, {
      ...(flags.server === undefined ? {} : { server: flags.server }),
      names: [name],
    });
    for (const kind of ['BackupDefinition', 'SnapshotDefinition'])
      if (input.current(`${kind}/${name}`) !== undefined)
        throw new PgbackmanError(
          'INVALID_INPUT',
          `${kind}/${name} is still in the catalogue: remove it from the manifests first, or let retention age its dumps; nothing was deleted`,
        );
    const servers = new Set(input.runs.map((r) => r.server));
    if (flags.server === undefined && servers.size > 1)
      throw new PgbackmanError(
        'USAGE',
        `the dumps of "${name}" belong to ${servers.size} backup servers (${[...servers].sort().join(', ')}): name the one on this host with --server`,
      );
    const now = Date.now();
    const plan = purgePlan(input.runs, whoAmI());
    output.out.write(planText(plan, now));
    output.out.write(`${summaryText(plan, 0)}\n`);
    if (plan.summary.delete === 0) return ExitCode.Ok;
    if (!flags.confirm) {
      output.err.write(
        `purge deletes for good: pass --confirm to delete the ${plan.summary.delete} dumps marked -; nothing was deleted\n`,
      );
      return ExitCode.Failure;
    }
    const roots = new Map(input.servers.map((s) => [s.name, rootDirectoryOf(s.spec)]));
    const swept = await sweepRetention(db, plan.dumps, roots);
    for (const d of swept.deleted)
      output.out.write(`deleted ${d.id} (${groupOf(d)}, ${utcText(d.finishedAt)})\n`);
    for (const s of swept.skipped)
      output.err.write(`warning: kept ${s.dump.id} (${groupOf(s.dump)}): ${s.why}\n`);
    const bytes = swept.deleted.reduce((n, d) => n + (d.bytes ?? 0), 0);
    output.out.write(
      `Purge complete! ${swept.deleted.length} deleted (${humanBytes(bytes)}), ${swept.skipped.length} skipped.\n`,
    );
    return swept.skipped.length === 0 ? ExitCode.Ok : ExitCode.Failure;
  });
}
