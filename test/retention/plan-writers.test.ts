import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import { planJsonWriter, planText, planTextWriter, summaryText } from '../../src/cli/retention-text.ts';
import type { PlannedDump, RetentionPlan } from '../../src/retention/retention-plan.ts';

const NOW = Date.parse('2026-12-01T12:00:00Z');

const dump = (i: number, over: Partial<PlannedDump> = {}): PlannedDump => ({
  id: `${String(i).padStart(8, '0')}-0000-4000-8000-000000000000`,
  server: 'bk1',
  definition: `def-${Math.floor(i / 3)}`,
  snapshot: null,
  finishedAt: new Date(NOW - i * 3_600_000).toISOString(),
  status: i % 4 === 1 ? 'FAILED' : 'SUCCEEDED',
  bytes: i % 4 === 1 ? null : i * 1_000_003,
  pinned: i % 5 === 0,
  action: i % 2 === 0 ? 'keep' : 'delete',
  reasons:
    i % 3 === 0 ? [] : i % 3 === 1 ? ['daily 2026-11-30'] : ['pinned', 'within 14d', 'say "why" \\ é\n'],
  ...over,
});

const DUMPS: PlannedDump[] = [
  ...Array.from({ length: 1000 }, (_, i) => dump(i)),
  dump(1000, { definition: null, snapshot: 'snap-1' }),
  dump(1001, { definition: null, snapshot: 'snap-1', reasons: [] }),
];
const SUMMARY: RetentionPlan['summary'] = { delete: 501, deleteBytes: 123_456_789, keep: 501, deleting: 2 };

/** Everything written to a stream, batch by batch: `cuts` are where the batches end. */
function written(write: (out: PassThrough) => void): string {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (b: Buffer) => chunks.push(b));
  write(out);
  return Buffer.concat(chunks).toString('utf8');
}

const batched = (dumps: readonly PlannedDump[], cuts: readonly number[]) =>
  [0, ...cuts, dumps.length].slice(1).map((end, i, ends) => dumps.slice(i === 0 ? 0 : ends[i - 1], end));

describe('retention plan writers (a plan written a batch at a time)', () => {
  for (const [name, dumps, cuts, unknown] of [
    ['empty', [], [], []],
    ['one batch', DUMPS, [], []],
    [
      'batches cutting groups, an empty batch, unknown entries',
      DUMPS,
      [0, 1, 7, 7, 450, 1001],
      ['/srv/x', '/srv/"y"'],
    ],
  ] as const) {
    test(`JSON is JSON.stringify's, byte for byte: ${name}`, () => {
      const got = written((out) => {
        const w = planJsonWriter(out);
        for (const b of batched(dumps, cuts)) w.dumps(b);
        w.end(SUMMARY, unknown);
      });
      assert.equal(got, `${JSON.stringify({ dumps, summary: SUMMARY, unknown }, null, 2)}\n`);
    });
    test(`text is planText's and the summary's, byte for byte: ${name}`, () => {
      const plan = { dumps, summary: SUMMARY };
      const got = written((out) => {
        const w = planTextWriter(out, NOW);
        for (const b of batched(dumps, cuts)) w.dumps(b);
        w.end(SUMMARY, unknown);
      });
      const lines = unknown
        .map((p) => `  ? ${p}  unknown: no catalogue row knows it; never deleted\n`)
        .join('');
      assert.equal(got, `${planText(plan, NOW)}${lines}${summaryText(plan, unknown.length)}\n`);
    });
  }
});
