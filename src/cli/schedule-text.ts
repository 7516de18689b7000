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
  if (iso === null) return '-';
  // toISOString's own form, the common case (a retention plan prints a million): no regular expression.
  if (iso.length === 24 && iso.charCodeAt(19) === 46 && iso.charCodeAt(23) === 90 && isDigits(iso, 20, 23))
    return `${iso.slice(0, 19)}Z`;
  return iso.replace(/\.\d+Z$/, 'Z');
}

const isDigits = (s: string, from: number, to: number): boolean => {
  for (let i = from; i < to; i++) if (s.charCodeAt(i) < 48 || s.charCodeAt(i) > 57) return false;
  return true;
};

/** The next run, or what suspends the definition: `suspended (node pg01)`. */
export function nextRunText(nextRunAt: string | null, suspended: Suspension | null): string {
  if (suspended === null) return utcText(nextRunAt);
  return suspended.by === 'definition'
    ? 'suspended (definition)'
    : `suspended (${suspended.by} ${suspended.name})`;
}
