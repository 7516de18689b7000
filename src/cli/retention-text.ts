import type { Writable } from 'node:stream';
import type { PlannedDump, PlanSummary, RetentionPlan } from '../retention/retention-plan.ts';
import { humanBytes } from './human-bytes.ts';
import { utcText } from './schedule-text.ts';

export const groupOf = (d: PlannedDump) =>
  d.definition !== null ? `BackupDefinition/${d.definition}` : `SnapshotDefinition/${d.snapshot}`;

const planHeader = (now: number) => `Retention plan as of ${utcText(new Date(now).toISOString())}:`;

/** Each status padded to its column's width once, not per line. */
const STATUS_COLUMN: Readonly<Record<PlannedDump['status'], string>> = {
  RUNNING: 'RUNNING  ',
  SUCCEEDED: 'SUCCEEDED',
  FAILED: 'FAILED   ',
  MISSED: 'MISSED   ',
};

/** A dump's lines, the group's heading first when `d` starts a group after `group`; returns the new group. */
function pushDump(lines: string[], d: PlannedDump, group: string): string {
  if (groupOf(d) !== group) {
    group = groupOf(d);
    lines.push('', `  ${group}`);
  }
  const size = d.bytes === null ? '-' : humanBytes(d.bytes);
  lines.push(
    `    ${d.action === 'delete' ? '-' : '+'} ${d.id.slice(0, 8)}  ${utcText(d.finishedAt)}  ${STATUS_COLUMN[d.status]}  ${size.padStart(9)}  ${d.action === 'delete' ? 'delete' : 'keep  '}  ${d.reasons.join('; ')}`,
  );
  return group;
}

/** Each group's dumps, oldest first: `-` to delete, `+` kept, with the reasons. `only`: just those. */
export function planText(plan: RetentionPlan, now: number, only?: 'delete'): string {
  const lines = [planHeader(now)];
  let group = '';
  for (const d of plan.dumps) if (only === undefined || d.action === only) group = pushDump(lines, d, group);
  return `${lines.join('\n')}\n\n`;
}

/** Dumps per write: the joined text stays small enough for V8's young generation (large strings are old). */
const FLUSH_EVERY = 200;

/** How a plan read in batches is written as it comes: the same bytes as the whole plan's form. */
export interface PlanWriter {
  dumps(dumps: readonly PlannedDump[]): void;
  end(summary: PlanSummary, unknown: readonly string[]): void;
}

/** planText, the unknown entries and summaryText, a batch at a time. */
export function planTextWriter(out: Writable, now: number): PlanWriter {
  let group = '';
  out.write(planHeader(now));
  return {
    dumps(dumps) {
      let lines: string[] = [];
      for (const d of dumps) {
        group = pushDump(lines, d, group);
        if (lines.length >= FLUSH_EVERY) {
          out.write(`\n${lines.join('\n')}`);
          lines = [];
        }
      }
      if (lines.length > 0) out.write(`\n${lines.join('\n')}`);
    },
    end(summary, unknown) {
      out.write('\n\n');
      for (const path of unknown)
        out.write(`  ? ${path}  unknown: no catalogue row knows it; never deleted\n`);
      out.write(`${summaryText({ summary }, unknown.length)}\n`);
    },
  };
}

/** A string as JSON: as JSON.stringify writes it, which only strings needing an escape go through. */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;
const jsonString = (s: string): string => (NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`);

/** Names and reasons repeat across dumps: each is quoted once (the cache is emptied when it grows large). */
function quoter(): (s: string) => string {
  const seen = new Map<string, string>();
  return (s) => {
    let quoted = seen.get(s);
    if (quoted === undefined) {
      if (seen.size >= 50_000) seen.clear();
      quoted = jsonString(s);
      seen.set(s, quoted);
    }
    return quoted;
  };
}

/**
 * One dump as `JSON.stringify(dumps, null, 2)` writes an element of the array at depth 2, field by field
 * (a generic stringify with indentation was a third of a large plan's time).
 */
function dumpJson(d: PlannedDump, quote: (s: string) => string): string {
  const n = d.reasons.length;
  const reasons =
    n === 0
      ? '[]'
      : n === 1
        ? `[\n        ${quote(d.reasons[0] as string)}\n      ]`
        : `[\n        ${d.reasons.map(quote).join(',\n        ')}\n      ]`;
  return `{
      "id": ${jsonString(d.id)},
      "server": ${quote(d.server)},
      "definition": ${d.definition === null ? 'null' : quote(d.definition)},
      "snapshot": ${d.snapshot === null ? 'null' : quote(d.snapshot)},
      "finishedAt": ${jsonString(d.finishedAt)},
      "status": "${d.status}",
      "bytes": ${d.bytes === null ? 'null' : JSON.stringify(d.bytes)},
      "pinned": ${d.pinned},
      "action": "${d.action}",
      "reasons": ${reasons}
    }`;
}

/** `JSON.stringify({dumps, summary, unknown}, null, 2)` and a newline, a batch at a time. */
export function planJsonWriter(out: Writable): PlanWriter {
  let first = true;
  const quote = quoter();
  // Nested values are their own JSON.stringify with every line moved in to their depth.
  const nested = (value: unknown, indent: string) =>
    JSON.stringify(value, null, 2).replace(/\n/g, `\n${indent}`);
  out.write('{\n  "dumps": [');
  return {
    dumps(dumps) {
      if (dumps.length === 0) return;
      let parts: string[] = [];
      for (const d of dumps) {
        parts.push(`${first ? '' : ','}\n    ${dumpJson(d, quote)}`);
        first = false;
        if (parts.length === FLUSH_EVERY) {
          out.write(parts.join(''));
          parts = [];
        }
      }
      if (parts.length > 0) out.write(parts.join(''));
    },
    end(summary, unknown) {
      out.write(
        `${first ? '' : '\n  '}],\n  "summary": ${nested(summary, '  ')},\n  "unknown": ${nested(unknown, '  ')}\n}\n`,
      );
    },
  };
}

export function summaryText(plan: Pick<RetentionPlan, 'summary'>, unknown: number): string {
  const s = plan.summary;
  const rest = [
    s.deleting > 0 ? `${s.deleting} of them left half-deleted by an earlier sweep` : '',
    unknown > 0 ? `${unknown} unknown ${unknown === 1 ? 'entry' : 'entries'} under the root (kept)` : '',
  ].filter((t) => t !== '');
  return `Retention: ${s.delete} to delete (${humanBytes(s.deleteBytes)}), ${s.keep} kept${rest.length > 0 ? `; ${rest.join('; ')}` : ''}.`;
}
