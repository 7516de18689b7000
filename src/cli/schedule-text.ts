import type { ResolvedSchedule } from '../schedule/auto-schedule.ts';
import type { Suspension } from '../schedule/definition-schedule.ts';

/** `auto (03:17)`, or the cron itself; the zone is added when it is not UTC. */
export function scheduleText(s: ResolvedSchedule): string {
  const [minute = '', hour = ''] = s.cron.split(' ');
  const text = s.auto ? `auto (${hour.padStart(2, '0')}:${minute.padStart(2, '0')})` : s.cron;
  return s.timezone === 'UTC' ? text : `${text} ${s.timezone}`;
}

/** An ISO time in UTC to the second: `2026-12-03T03:17:00Z`. */
export function utcText(iso: string | null): string {
  return iso === null ? '-' : iso.replace(/\.\d+Z$/, 'Z');
}

/** The next run, or what suspends the definition: `suspended (node pg01)`. */
export function nextRunText(nextRunAt: string | null, suspended: Suspension | null): string {
  if (suspended === null) return utcText(nextRunAt);
  return suspended.by === 'definition'
    ? 'suspended (definition)'
    : `suspended (${suspended.by} ${suspended.name})`;
}
