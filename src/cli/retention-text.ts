import type { PlannedDump, RetentionPlan } from '../retention/retention-plan.ts';
import { humanBytes } from './human-bytes.ts';
import { utcText } from './schedule-text.ts';

export const groupOf = (d: PlannedDump) =>
  d.definition !== null ? `BackupDefinition/${d.definition}` : `SnapshotDefinition/${d.snapshot}`;

/** Each group's dumps, oldest first: `-` to delete, `+` kept, with the reasons. `only`: just those. */
export function planText(plan: RetentionPlan, now: number, only?: 'delete'): string {
  const lines = [`Retention plan as of ${utcText(new Date(now).toISOString())}:`];
  let group = '';
  for (const d of plan.dumps) {
    if (only !== undefined && d.action !== only) continue;
    if (groupOf(d) !== group) {
      group = groupOf(d);
      lines.push('', `  ${group}`);
    }
    const size = d.bytes === null ? '-' : humanBytes(d.bytes);
    lines.push(
      `    ${d.action === 'delete' ? '-' : '+'} ${d.id.slice(0, 8)}  ${utcText(d.finishedAt)}  ${d.status.padEnd(9)}  ${size.padStart(9)}  ${d.action.padEnd(6)}  ${d.reasons.join('; ')}`,
    );
  }
  return `${lines.join('\n')}\n\n`;
}

export function summaryText(plan: RetentionPlan, unknown: number): string {
  const s = plan.summary;
  const rest = [
    s.deleting > 0 ? `${s.deleting} of them left half-deleted by an earlier sweep` : '',
    unknown > 0 ? `${unknown} unknown ${unknown === 1 ? 'entry' : 'entries'} under the root (kept)` : '',
  ].filter((t) => t !== '');
  return `Retention: ${s.delete} to delete (${humanBytes(s.deleteBytes)}), ${s.keep} kept${rest.length > 0 ? `; ${rest.join('; ')}` : ''}.`;
}
