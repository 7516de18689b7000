import { randomUUID } from 'node:crypto';
import { closeInterruptedOnHost, replayAndReport } from '../backup/record/run-recorder.ts';
import type { DumpJob } from '../backup/run-dump.ts';
import { lastRunTimes, recordMissed } from '../catalogue/backup-runs.ts';
import type { Queryable } from '../catalogue/catalogue-db.ts';
import { messageOf } from '../errors.ts';
import { resolveSettings } from '../manifest/resolve-settings.ts';
import type { Logger } from '../observability/logger.ts';
import type { ScheduleEntry } from '../schedule/scheduler.ts';
import { missedTimes } from './missed-runs.ts';

/**
 * What a starting agent settles before it schedules anything: the spool's records are sent, runs this
 * host left RUNNING are closed (their partial files removed), and the runs missed while it was down are
 * recorded MISSED; returns the definitions to run now because they say `catchUp: true`.
 */
export async function settleOnStart(
  q: Queryable,
  o: {
    readonly server: string;
    readonly host: string;
    readonly entries: readonly ScheduleEntry<DumpJob>[];
    /** The agent's last heartbeat before this start; null for a first start (nothing was missed). */
    readonly downSince: Date | null;
    /** The server's root directory (its jobs name it too). */
    readonly root: string;
    readonly now: Date;
    readonly log: Logger;
    /** Each MISSED row recorded: for alerts. */
    readonly onMissed?: (job: DumpJob, runId: string, missed: number, reason: string) => void;
  },
): Promise<ScheduleEntry<DumpJob>[]> {
  // Every job of a server shares its root: one replay and one query, however many definitions there are.
  const root = o.entries[0]?.payload.server.spec.rootDirectory ?? o.root;
  try {
    await replayAndReport(q, root, o.log);
    await closeInterruptedOnHost(q, root, { server: o.server, host: o.host }, o.log);
  } catch (err) {
    o.log.warn(
      { event: 'recovery_failed' },
      `runs left by an earlier start were not all settled: ${messageOf(err)}`,
    );
  }
  if (o.downSince === null) return [];
  const lastRuns = await lastRunTimes(q, o.server);
  const catchUp: ScheduleEntry<DumpJob>[] = [];
  for (const entry of o.entries) {
    const job = entry.payload;
    if (job.kind !== 'BackupDefinition') continue;
    const last = lastRuns.get(entry.key);
    const from = last !== undefined && last > o.downSince ? last : o.downSince;
    const times = missedTimes(entry.timing, from, o.now);
    if (times.length === 0) continue;
    const settings = resolveSettings(job.spec, job.node, job.server);
    const id = randomUUID();
    const reason = `missed: no agent ran ${entry.key} between ${from.toISOString()} and ${o.now.toISOString()}`;
    await recordMissed(q, {
      id,
      server: o.server,
      node: job.node.name,
      database: settings.code === 'CLUSTER' ? null : (job.spec.database ?? null),
      code: settings.code,
      definition: job.name,
      snapshot: null,
      host: o.host,
      times,
      revision: job.revision ?? null,
      reason,
    });
    o.onMissed?.(job, id, times.length, reason);
    o.log.warn(
      { event: 'runs_missed', definition: entry.key, missed: times.length },
      `${entry.key} missed ${times.length} scheduled run(s) while the agent was down (recorded MISSED)${job.spec.catchUp === true ? '; catching up now' : ''}`,
    );
    if (job.spec.catchUp === true) catchUp.push(entry);
  }
  return catchUp;
}
