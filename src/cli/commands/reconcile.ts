import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { RECONCILE_CHANNEL } from '../../agent/listen.ts';
import { type AgentRow, isStale, listAgents, requestReconcile } from '../../catalogue/agents.ts';
import { requireCurrentSchema } from '../../catalogue/migrate.ts';
import { withCatalogue } from '../../catalogue/open-catalogue.ts';
import { PgbackmanError } from '../../errors.ts';
import { ExitCode } from '../exit-codes.ts';
import type { Output } from '../output.ts';

/**
 * `pgbackman reconcile [--server NAME]`: asks the agents to fetch and reconcile now and waits until each
 * has reported, like `flux reconcile --with-source`; exit 0 when every one is Ready, 1 when not.
 */
export async function runReconcile(
  location: string,
  flags: { server?: string | undefined; timeoutMs: number },
  output: Output,
): Promise<ExitCode> {
  const token = randomUUID();
  const asked = await withCatalogue(location, 'reconcile', async (db) => {
    await requireCurrentSchema(db);
    const now = new Date();
    const live = (await listAgents(db, flags.server === undefined ? {} : { server: flags.server })).filter(
      (a) => !isStale(a, now),
    );
    if (live.length === 0)
      throw new PgbackmanError(
        'NOT_FOUND',
        `no running agent${flags.server === undefined ? '' : ` for ${flags.server}`} (see \`pgbackman get agents\`)`,
      );
    await requestReconcile(db, token, flags.server);
    // A PostgreSQL catalogue wakes the agents at once; the embedded one is polled by its agent every second.
    if (db.kind === 'postgres')
      await db.query('select pg_notify($1, $2)', [RECONCILE_CHANNEL, flags.server ?? '']);
    return live;
  });
  output.err.write(`► asked ${asked.length} agent(s) to reconcile\n◎ waiting for them to report\n`);
  const until = Date.now() + flags.timeoutMs;
  let done: AgentRow[] = [];
  while (Date.now() < until) {
    await sleep(300);
    const rows = await withCatalogue(location, 'reconcile', (db) =>
      listAgents(db, flags.server === undefined ? {} : { server: flags.server }),
    );
    done = rows.filter((r) => r.reconcileHandled === token);
    if (asked.every((a) => done.some((d) => d.server === a.server && d.host === a.host))) break;
  }
  let ok = true;
  for (const a of asked) {
    const row = done.find((d) => d.server === a.server && d.host === a.host);
    const ready = row?.conditions.find((c) => c.type === 'Ready');
    if (row === undefined) {
      ok = false;
      output.err.write(
        `✗ ${a.server}@${a.host}: did not report within ${Math.round(flags.timeoutMs / 1000)} s\n`,
      );
    } else if (ready?.status === 'True') {
      output.out.write(`✔ ${a.server}@${a.host}: ${ready.message}\n`);
    } else {
      ok = false;
      output.out.write(
        `✗ ${a.server}@${a.host}: ${ready?.reason ?? 'Unknown'}: ${ready?.message ?? 'no conditions'}\n`,
      );
    }
  }
  return ok ? ExitCode.Ok : ExitCode.Failure;
}
