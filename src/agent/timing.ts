import type { DumpJob } from '../backup/run-dump.ts';
import { resolveSettings } from '../manifest/resolve-settings.ts';
import type { Timing } from '../schedule/scheduler.ts';

/** When a definition is due: its cron pattern in its time zone, or for `auto` a stable time in its node's window. */
export function timingOf(job: DumpJob): Timing | string {
  if (job.kind === 'SnapshotDefinition') return { kind: 'once', at: new Date(job.spec.at) };
  const schedule = job.spec.schedule ?? 'auto';
  if (schedule === 'auto') return 'schedule: auto is not resolved yet';
  const { timezone } = resolveSettings(job.spec, job.node, job.server);
  return { kind: 'cron', pattern: schedule, timezone };
}
