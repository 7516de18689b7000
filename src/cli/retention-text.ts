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

/** A dump's line in a plan, after a newline (`-` to delete, `+` kept, and the reasons). */
function dumpLine(d: PlannedDump): string {
  const size = d.bytes === null ? '-' : humanBytes(d.bytes);
  const del = d.action === 'delete';
  return `\n    ${del ? '-' : '+'} ${d.id.slice(0, 8)}  ${utcText(d.finishedAt)}  ${STATUS_COLUMN[d.status]}  ${size.padStart(9)}  ${del ? 'delete' : 'keep  '}  ${d.reasons.length === 1 ? d.reasons[0] : d.reasons.join('; ')}`;
}

/** Each group's heading before its first dump: dumps of a group share their name, compared as it is. */
function headings(): (d: PlannedDump) => string | undefined {
  let definition: string | null = null;
  let snapshot: string | null = null;
  return (d) => {
    if (d.definition === definition && d.snapshot === snapshot) return undefined;
    definition = d.definition;
    snapshot = d.snapshot;
    return `\n\n  ${groupOf(d)}`;
  };
}

/** Each group's dumps, oldest first: `-` to delete, `+` kept, with the reasons. `only`: just those. */
export function planText(plan: RetentionPlan, now: number, only?: 'delete'): string {
  const parts = [planHeader(now)];
  const heading = headings();
  for (const d of plan.dumps) {
    if (only !== undefined && d.action !== only) continue;
    const h = heading(d);
    if (h !== undefined) parts.push(h);
    parts.push(dumpLine(d));
  }
  return `${parts.join('')}\n\n`;
}

/**
 * Text written a piece at a time, in writes of about 64 KiB: fewer calls into the stream than a write per
 * group, and each joined string small enough for V8's young generation (large strings are old).
 */
function chunked(out: Writable): { push(text: string): void; flush(): void } {
  let pieces: string[] = [];
  let size = 0;
  const flush = () => {
    if (pieces.length > 0) out.write(pieces.join(''));
    pieces = [];
    size = 0;
  };
  return {
    push(text) {
      pieces.push(text);
      size += text.length;
      if (size >= 65_536) flush();
    },
    flush,
  };
}

/** How a plan read in batches is written as it comes: the same bytes as the whole plan's form. */
export interface PlanWriter {
  dumps(dumps: readonly PlannedDump[]): void;
  end(summary: PlanSummary, unknown: readonly string[]): void;
}

/** planText, the unknown entries and summaryText, a batch at a time. */
export function planTextWriter(out: Writable, now: number): PlanWriter {
  const heading = headings();
  const text = chunked(out);
  text.push(planHeader(now));
  return {
    dumps(dumps) {
      for (const d of dumps) {
        const h = heading(d);
        if (h !== undefined) text.push(h);
        text.push(dumpLine(d));
      }
    },
    end(summary, unknown) {
      text.flush();
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

/** A group's dumps share their server and definition: each is quoted again only when it changes. */
function quoter(): (s: string) => string {
  let last = '';
  let quoted = '""';
  return (s) => {
    if (s !== last) {
      last = s;
      quoted = jsonString(s);
    }
    return quoted;
  };
}

/** Reasons repeat across a plan (`redundancy`, `expired: older than 14d`): each quoted once, in a bounded memo. */
function reasonQuoter(): (s: string) => string {
  const memo = new Map<string, string>();
  return (s) => {
    let quoted = memo.get(s);
    if (quoted === undefined) {
      if (memo.size >= 10_000) memo.clear();
      quoted = jsonString(s);
      memo.set(s, quoted);
    }
    return quoted;
  };
}

/**
 * One dump as `JSON.stringify(dumps, null, 2)` writes an element of the array at depth 2, field by field
 * (a generic stringify with indentation was a third of a large plan's time). Ids (uuids) and times
 * (isoTime's) never need an escape.
 */
function dumpJson(d: PlannedDump, q: Quoters): string {
  const n = d.reasons.length;
  const reasons =
    n === 0
      ? '[]'
      : n === 1
        ? `[\n        ${q.reason(d.reasons[0] as string)}\n      ]`
        : `[\n        ${d.reasons.map(q.reason).join(',\n        ')}\n      ]`;
  return `{
      "id": "${d.id}",
      "server": ${q.server(d.server)},
      "definition": ${d.definition === null ? 'null' : q.definition(d.definition)},
      "snapshot": ${d.snapshot === null ? 'null' : q.snapshot(d.snapshot)},
      "finishedAt": "${d.finishedAt}",
      "status": "${d.status}",
      "bytes": ${d.bytes === null ? 'null' : JSON.stringify(d.bytes)},
      "pinned": ${d.pinned},
      "action": "${d.action}",
      "reasons": ${reasons}
    }`;
}

interface Quoters {
  readonly reason: (s: string) => string;
  readonly server: (s: string) => string;
  readonly definition: (s: string) => string;
  readonly snapshot: (s: string) => string;
}

/** `JSON.stringify({dumps, summary, unknown}, null, 2)` and a newline, a batch at a time. */
export function planJsonWriter(out: Writable): PlanWriter {
  let first = true;
  const quoters: Quoters = {
    reason: reasonQuoter(),
    server: quoter(),
    definition: quoter(),
    snapshot: quoter(),
  };
  // Nested values are their own JSON.stringify with every line moved in to their depth.
  const nested = (value: unknown, indent: string) =>
    JSON.stringify(value, null, 2).replace(/\n/g, `\n${indent}`);
  const text = chunked(out);
  text.push('{\n  "dumps": [');
  return {
    dumps(dumps) {
      for (const d of dumps) {
        text.push(`${first ? '' : ','}\n    ${dumpJson(d, quoters)}`);
        first = false;
      }
    },
    end(summary, unknown) {
      text.flush();
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
