import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RetentionRun } from '../../src/catalogue/run-retention.ts';
import { groupRetention, planRetention } from '../../src/retention/retention-plan.ts';

const DAY = 86_400_000;
const NOW = Date.parse('2026-12-01T12:00:00Z');

const run = (id: string, daysAgo: number, over: Partial<RetentionRun> = {}): RetentionRun => ({
  id,
  server: 'b1',
  definition: 'shop',
  snapshot: null,
  status: 'SUCCEEDED',
  at: NOW - daysAgo * DAY,
  bytes: 1000,
  dumpPath: `/srv/x/${id}/dump`,
  retention: { period: '7d', redundancy: 1, timezone: 'UTC' },
  pinned: false,
  deleting: false,
  ...over,
});

test("a live definition is judged by today's rules, a removed one by its newest run's, a snapshot by its period", () => {
  const runs = [
    run('live-old', 20),
    run('live-new', 10),
    run('gone-a', 30, { definition: 'gone', retention: { period: '1d', redundancy: 2 } }),
    run('gone-b', 20, { definition: 'gone', retention: { period: '1d', redundancy: 2 } }),
    run('gone-c', 10, { definition: 'gone', retention: { period: '1d', redundancy: 2 } }),
    run('snap', 3, { definition: null, snapshot: 'before-upgrade', retention: { period: '2d' } }),
    run('snap-young', 1, { definition: null, snapshot: 'later', retention: { period: '2d' } }),
  ];
  // Today the live definition keeps 30 days; its runs stored 7.
  const current = (key: string) =>
    key === 'BackupDefinition/shop'
      ? groupRetention({ period: '30d', redundancy: 1 }, 'definition')
      : undefined;
  const plan = planRetention(runs, current, NOW);
  assert.deepEqual(
    plan.dumps.map((d) => `${d.id}: ${d.action} ${d.reasons.join('; ')}`),
    [
      'gone-a: delete expired: older than 1d',
      'gone-b: keep redundancy',
      'gone-c: keep redundancy',
      'live-old: keep within 30d',
      'live-new: keep redundancy; within 30d',
      'snap: delete expired: older than 2d',
      'snap-young: keep within 2d',
    ],
  );
  assert.deepEqual(plan.summary, { delete: 2, deleteBytes: 2000, keep: 5, deleting: 0 });
});

test('a deletion under way is finished whatever the rules say now, and is not counted by them', () => {
  const plan = planRetention(
    [run('half-deleted', 1, { deleting: true }), run('newest', 0)],
    () => undefined,
    NOW,
  );
  assert.deepEqual(
    plan.dumps.map((d) => `${d.id}: ${d.action} ${d.reasons.join('; ')}`),
    [
      'half-deleted: delete deletion under way: a sweep stopped before it finished',
      'newest: keep redundancy; within 7d',
    ],
  );
  assert.equal(plan.summary.deleting, 1);
});

test('stored rules: tiers without a period have none; old runs without a zone read UTC; a snapshot has no redundancy', () => {
  assert.deepEqual(
    groupRetention({ keep: { daily: 7 }, redundancy: 2, timezone: 'Europe/Oslo' }, 'definition'),
    {
      rules: { redundancy: 2, keep: { daily: 7 } },
      timezone: 'Europe/Oslo',
    },
  );
  assert.deepEqual(groupRetention({ period: '14d', redundancy: 3 }, 'definition'), {
    rules: { periodMs: 14 * DAY, periodText: '14d', redundancy: 3 },
    timezone: 'UTC',
  });
  assert.deepEqual(groupRetention(null, 'definition').rules, {
    periodMs: 7 * DAY,
    periodText: '7d',
    redundancy: 1,
  });
  assert.deepEqual(groupRetention({ period: '3d' }, 'snapshot').rules, {
    periodMs: 3 * DAY,
    periodText: '3d',
    redundancy: 0,
  });
});
