import type { PackedGroup, RetentionRun } from '../catalogue/run-retention.ts';
import { PgbackmanError } from '../errors.ts';

/** A group's runs as packedRunsOf reads them, decoded (planGroup puts them in order). */

const STATUS: Readonly<Record<string, RetentionRun['status']>> = {
  S: 'SUCCEEDED',
  F: 'FAILED',
  R: 'RUNNING',
  M: 'MISSED',
};

/** The runs of one packed group; the stored retention rides on each (planGroup reads the newest's). */
export function unpackRuns(group: PackedGroup): RetentionRun[] {
  const { runs: text, definition, snapshot, retention } = group;
  const runs: RetentionRun[] = [];
  let server = '';
  for (let start = 0; start < text.length; ) {
    const c1 = text.indexOf(',', start);
    const c2 = text.indexOf(',', c1 + 1);
    const c3 = c2 + 2;
    const c4 = text.indexOf(',', c3 + 1);
    const c5 = c4 + 2;
    let end = text.indexOf(';', c5 + 1);
    if (end === -1) end = text.length;
    const status = STATUS[text[c2 + 1] as string];
    const flags = text.charCodeAt(c4 + 1) - 48;
    const broken =
      c1 === -1 || c2 === -1 || c4 === -1 || text[c3] !== ',' || text[c5] !== ',' || status === undefined;
    if (broken || flags < 0 || flags > 3)
      throw new PgbackmanError(
        'INTERNAL',
        `unreadable run list of ${groupName(group)} at character ${start}`,
      );
    // A group's runs almost always share one server: one string for all of them.
    if (end - c5 - 1 !== server.length || !text.startsWith(server, c5 + 1)) server = text.slice(c5 + 1, end);
    runs.push({
      id: text.slice(start, c1),
      server,
      definition,
      snapshot,
      status,
      at: digits(text, c1 + 1, c2),
      bytes: c4 === c3 + 1 ? null : digits(text, c3 + 1, c4),
      dumpPath: null,
      retention,
      pinned: (flags & 1) === 1,
      deleting: (flags & 2) === 2,
    });
    start = end + 1;
  }
  return runs;
}

/** The number written in `text` from `from` to `to`: read in place, with no substring to collect. */
function digits(text: string, from: number, to: number): number {
  // Past 15 digits a running sum could round differently from Number's one correct rounding.
  if (to - from > 15) return Number(text.slice(from, to));
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = text.charCodeAt(i) - 48;
    // A sign or anything else is read the slow way (it never is: times and sizes are positive).
    if (d < 0 || d > 9) return Number(text.slice(from, to));
    n = n * 10 + d;
  }
  return n;
}

const groupName = (g: PackedGroup) =>
  g.definition !== null ? `BackupDefinition/${g.definition}` : `SnapshotDefinition/${g.snapshot}`;
