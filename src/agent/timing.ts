import type { DumpJob } from '../backup/run-dump.ts';
import { resolveSettings } from '../manifest/resolve-settings.ts';
import { resolveSchedule } from '../schedule/auto-schedule.ts';
import type { Timing } from '../schedule/scheduler.ts';

/**
 * When a job is due: a snapshot once at its time; a definition by its cron pattern, or for `auto` a stable
 * time in its node's backup window (the same rule `get definitions` shows, so both always agree).
 */
export function timingOf(job: DumpJob): Timing {
  if (job.kind === 'SnapshotDefinition') return { kind: 'once', at: new Date(job.spec.at) };
  const { timezone } = resolveSettings(job.spec, job.node, job.server);
  const resolved = resolveSchedule(
    { kind: job.kind, name: job.name, schedule: job.spec.schedule },
    { name: job.node.name, backupWindow: job.node.spec.backupWindow, defaults: job.node.spec.defaults },
    timezone,
  );
  return { kind: 'cron', pattern: resolved.cron, timezone: resolved.timezone };
}
