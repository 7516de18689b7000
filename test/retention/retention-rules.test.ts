import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  decideRetention,
  type RetentionDump,
  type RetentionRules,
  type RunStatus,
} from '../../src/retention/retention-rules.ts';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const NOW = Date.parse('2026-12-01T12:00:00Z');

const dump = (
  id: string,
  at: string | number,
  status: RunStatus = 'SUCCEEDED',
  pinned = false,
): RetentionDump => ({
  id,
  status,
  at: typeof at === 'number' ? at : Date.parse(at),
  pinned,
});

/** `id: action reason; reason` per dump, in input order: what `retention plan` shows. */
function plan(dumps: RetentionDump[], rules: RetentionRules, tz = 'UTC', now = NOW): string[] {
  return decideRetention(dumps, rules, tz, now).map((d) => `${d.id}: ${d.action} ${d.reasons.join('; ')}`);
}
const kept = (dumps: RetentionDump[], rules: RetentionRules, tz = 'UTC', now = NOW) =>
  decideRetention(dumps, rules, tz, now)
    .filter((d) => d.action === 'keep')
    .map((d) => d.id);

/** One good dump a day at 02:00 UTC for `days` days up to the day before NOW, oldest first. */
function daily(days: number, hour = 2): RetentionDump[] {
  const first = Date.parse('2026-12-01T00:00:00Z') - days * DAY + hour * HOUR;
  return Array.from({ length: days }, (_, i) => dump(`d${i}`, first + i * DAY));
}

describe('retention: period and redundancy', () => {
  const period = { periodMs: 14 * DAY, periodText: '14d' };
  test('redundancy 2 with 4 good and 2 failed dumps, all expired: the 2 newest good stay', () => {
    const dumps = [
      dump('g1', '2026-10-01T02:00:00Z'),
      dump('g2', '2026-10-02T02:00:00Z'),
      dump('g3', '2026-10-03T02:00:00Z'),
      dump('g4', '2026-10-04T02:00:00Z'),
      dump('f1', '2026-10-05T02:00:00Z', 'FAILED'),
      dump('f2', '2026-10-06T02:00:00Z', 'FAILED'),
    ];
    assert.deepEqual(plan(dumps, { ...period, redundancy: 2 }), [
      'g1: delete expired: older than 14d',
      'g2: delete expired: older than 14d',
      'g3: keep redundancy',
      'g4: keep redundancy',
      'f1: delete failed run older than 14d',
      'f2: delete failed run older than 14d',
    ]);
  });

  test('failures never count: a month of failed runs after the last good dump leaves that dump', () => {
    const dumps = [dump('good', '2026-10-01T02:00:00Z')];
    for (let i = 0; i < 30; i++)
      dumps.push(dump(`f${i}`, Date.parse('2026-11-01T02:00:00Z') + i * DAY, 'FAILED'));
    assert.deepEqual(kept(dumps, { ...period, redundancy: 1 }).slice(0, 1), ['good']);
    assert.equal(plan(dumps, { ...period, redundancy: 1 })[0], 'good: keep redundancy');
  });

  test('a young dump is kept for the period, and a young failure waits for it too', () => {
    assert.deepEqual(
      plan(
        [
          dump('old', '2026-11-01T02:00:00Z'),
          dump('young', '2026-11-25T02:00:00Z'),
          dump('newest', '2026-11-30T02:00:00Z'),
          dump('failed', '2026-11-30T03:00:00Z', 'FAILED'),
          dump('missed', '2026-11-10T03:00:00Z', 'MISSED'),
        ],
        { ...period, redundancy: 1 },
      ),
      [
        'old: delete expired: older than 14d',
        'young: keep within 14d',
        'newest: keep redundancy; within 14d',
        'failed: keep failed run, cleaned after 14d',
        'missed: delete missed run older than 14d',
      ],
    );
  });

  test('pinned outlives every rule; a running dump is never touched', () => {
    assert.deepEqual(
      plan(
        [
          dump('pinned', '2020-01-01T00:00:00Z', 'SUCCEEDED', true),
          dump('running', '2026-12-01T11:00:00Z', 'RUNNING'),
          dump('newest', '2026-11-30T02:00:00Z'),
        ],
        { ...period, redundancy: 1 },
      ),
      ['pinned: keep pinned', 'running: keep running', 'newest: keep redundancy; within 14d'],
    );
  });

  test('an all-failed history deletes only failures, and only old ones', () => {
    assert.deepEqual(
      plan([dump('a', '2026-10-01T00:00:00Z', 'FAILED'), dump('b', '2026-11-30T00:00:00Z', 'FAILED')], {
        ...period,
        redundancy: 3,
      }),
      ['a: delete failed run older than 14d', 'b: keep failed run, cleaned after 14d'],
    );
  });

  test('one dump only, however old, is kept', () => {
    assert.deepEqual(plan([dump('only', '2019-05-05T05:05:05Z')], { ...period, redundancy: 1 }), [
      'only: keep redundancy',
    ]);
  });
});

describe("retention: keep tiers (restic's forget)", () => {
  test('last 3: the three newest good dumps, numbered', () => {
    const dumps = daily(6);
    assert.deepEqual(plan(dumps, { redundancy: 1, keep: { last: 3 } }), [
      'd0: delete kept by no rule',
      'd1: delete kept by no rule',
      'd2: delete kept by no rule',
      'd3: keep last 3/3',
      'd4: keep last 2/3',
      'd5: keep redundancy; last 1/3',
    ]);
  });

  test('daily 7 over 30 days of two dumps a day: the newest of each of the last 7 days', () => {
    const dumps = [...daily(30, 2), ...daily(30, 14).map((d) => ({ ...d, id: `${d.id}pm` }))];
    const keep = decideRetention(dumps, { redundancy: 1, keep: { daily: 7 } }, 'UTC', NOW).filter(
      (d) => d.action === 'keep',
    );
    assert.deepEqual(
      keep.map((d) => `${d.id} ${d.reasons.join('; ')}`),
      [
        'd23pm daily 2026-11-24',
        'd24pm daily 2026-11-25',
        'd25pm daily 2026-11-26',
        'd26pm daily 2026-11-27',
        'd27pm daily 2026-11-28',
        'd28pm daily 2026-11-29',
        'd29pm redundancy; daily 2026-11-30',
      ],
    );
  });

  test('weekly 3: ISO weeks start on Monday; 1 January 2027 is in 2026-W53', () => {
    const dumps = [
      dump('sun', '2026-12-27T10:00:00Z'),
      dump('mon', '2026-12-28T10:00:00Z'),
      dump('thu', '2026-12-31T10:00:00Z'),
      dump('fri', '2027-01-01T10:00:00Z'),
      dump('next-mon', '2027-01-04T10:00:00Z'),
    ];
    assert.deepEqual(
      plan(dumps, { redundancy: 1, keep: { weekly: 3 } }, 'UTC', Date.parse('2027-01-05T00:00:00Z')),
      [
        'sun: keep weekly 2026-W52',
        'mon: delete kept by no rule',
        'thu: delete kept by no rule',
        'fri: keep weekly 2026-W53',
        'next-mon: keep redundancy; weekly 2027-W01',
      ],
    );
  });

  test('monthly 12 on a history of three months keeps each month and the first dump too', () => {
    const dumps = daily(80);
    const keep = decideRetention(dumps, { redundancy: 1, keep: { monthly: 12 } }, 'UTC', NOW).filter(
      (d) => d.action === 'keep',
    );
    assert.deepEqual(
      keep.map((d) => `${d.id} ${d.reasons.join('; ')}`),
      [
        'd0 monthly oldest (3 of 12 periods so far)',
        'd18 monthly 2026-09',
        'd49 monthly 2026-10',
        'd79 redundancy; monthly 2026-11',
      ],
    );
  });

  test('yearly and monthly together over two years, with a leap day', () => {
    const dumps = [
      dump('y2027', '2027-12-31T22:00:00Z'),
      dump('leap', '2028-02-29T03:00:00Z'),
      dump('mar', '2028-03-15T03:00:00Z'),
    ];
    assert.deepEqual(
      plan(
        dumps,
        { redundancy: 1, keep: { yearly: 2, monthly: 1 } },
        'UTC',
        Date.parse('2028-04-01T00:00:00Z'),
      ),
      [
        'y2027: keep yearly 2027',
        'leap: delete kept by no rule',
        'mar: keep redundancy; monthly 2028-03; yearly 2028',
      ],
    );
    assert.deepEqual(
      kept(dumps, { redundancy: 1, keep: { daily: 2 } }, 'UTC', Date.parse('2028-04-01T00:00:00Z')),
      ['leap', 'mar'],
    );
  });

  test('days are the time zone’s: around the autumn change in Oslo, two dumps one UTC day apart are two days', () => {
    // 22:30Z on 25 October is 23:30 CET that day; 23:30Z is 00:30 CET on the 26th.
    const dumps = [
      dump('day-before', '2026-10-24T10:00:00Z'),
      dump('late', '2026-10-25T22:30:00Z'),
      dump('after-midnight', '2026-10-25T23:30:00Z'),
    ];
    const now = Date.parse('2026-10-27T00:00:00Z');
    assert.deepEqual(kept(dumps, { redundancy: 1, keep: { daily: 2 } }, 'UTC', now), [
      'day-before',
      'after-midnight',
    ]);
    assert.deepEqual(plan(dumps, { redundancy: 1, keep: { daily: 2 } }, 'Europe/Oslo', now), [
      'day-before: delete kept by no rule',
      'late: keep daily 2026-10-25',
      'after-midnight: keep redundancy; daily 2026-10-26',
    ]);
  });

  test('hourly in the repeated hour: 02:30 CEST and 02:30 CET are the same wall-clock hour', () => {
    const dumps = [dump('cest', '2026-10-25T00:30:00Z'), dump('cet', '2026-10-25T01:30:00Z')];
    assert.deepEqual(
      plan(dumps, { redundancy: 1, keep: { hourly: 5 } }, 'Europe/Oslo', Date.parse('2026-10-25T03:00:00Z')),
      ['cest: keep hourly oldest (1 of 5 periods so far)', 'cet: keep redundancy; hourly 2026-10-25 02h'],
    );
  });

  test('tiers beside a period: kept while any rule keeps it; failed runs are cleaned after 7 days without one', () => {
    const dumps = [
      ...daily(40),
      dump('f-old', '2026-11-01T05:00:00Z', 'FAILED'),
      dump('f-new', '2026-11-28T05:00:00Z', 'FAILED'),
    ];
    const withPeriod = kept(dumps, {
      redundancy: 1,
      periodMs: 10 * DAY,
      periodText: '10d',
      keep: { weekly: 2 },
    });
    assert.ok(withPeriod.includes('d31') && withPeriod.includes('f-new') && !withPeriod.includes('f-old'));
    const keepOnly = plan(dumps, { redundancy: 1, keep: { daily: 1 } });
    assert.equal(keepOnly.at(-2), 'f-old: delete failed run older than 7d');
    assert.equal(keepOnly.at(-1), 'f-new: keep failed run, cleaned after 7d');
  });

  test('month ends: 31 January, 28 February and 31 March are three months; the 1st of April a fourth', () => {
    const dumps = [
      dump('jan31', '2027-01-31T23:00:00Z'),
      dump('feb01', '2027-02-01T01:00:00Z'),
      dump('feb28', '2027-02-28T22:00:00Z'),
      dump('mar31', '2027-03-31T21:00:00Z'),
      dump('apr01', '2027-04-01T00:30:00Z'),
    ];
    assert.deepEqual(
      plan(dumps, { redundancy: 1, keep: { monthly: 3 } }, 'UTC', Date.parse('2027-04-02T00:00:00Z')),
      [
        'jan31: delete kept by no rule',
        'feb01: delete kept by no rule',
        'feb28: keep monthly 2027-02',
        'mar31: keep monthly 2027-03',
        'apr01: keep redundancy; monthly 2027-04',
      ],
    );
    // In Oslo, 23:00Z on 31 January is already 1 February: January has no dump there.
    assert.deepEqual(
      plan(dumps, { redundancy: 1, keep: { monthly: 4 } }, 'Europe/Oslo', Date.parse('2027-04-02T00:00:00Z')),
      [
        'jan31: keep monthly oldest (3 of 4 periods so far)',
        'feb01: delete kept by no rule',
        'feb28: keep monthly 2027-02',
        'mar31: keep monthly 2027-03',
        'apr01: keep redundancy; monthly 2027-04',
      ],
    );
  });

  test('gaps of several days: daily counts days that have a dump, not calendar days', () => {
    const dumps = [
      dump('mon', '2026-11-02T02:00:00Z'),
      dump('tue', '2026-11-03T02:00:00Z'),
      dump('after-a-week', '2026-11-10T02:00:00Z'),
      dump('after-ten-days', '2026-11-20T02:00:00Z'),
    ];
    assert.deepEqual(kept(dumps, { redundancy: 1, keep: { daily: 3 } }), [
      'tue',
      'after-a-week',
      'after-ten-days',
    ]);
  });

  test('a synthetic year of daily dumps with daily 7, weekly 4, monthly 12 and yearly 2', () => {
    const now = Date.parse('2026-12-31T12:00:00Z');
    const first = Date.parse('2026-01-01T03:00:00Z');
    const dumps = Array.from({ length: 365 }, (_, i) =>
      dump(`d${String(i + 1).padStart(3, '0')}`, first + i * DAY),
    );
    const keep = decideRetention(
      dumps,
      { redundancy: 1, keep: { daily: 7, weekly: 4, monthly: 12, yearly: 2 } },
      'Europe/Oslo',
      now,
    ).filter((d) => d.action === 'keep');
    const labels = keep.flatMap((d) => d.reasons);
    assert.equal(labels.filter((r) => r.startsWith('daily ')).length, 7);
    assert.equal(labels.filter((r) => r.startsWith('weekly ')).length, 4);
    assert.deepEqual(
      labels.filter((r) => r.startsWith('monthly 2026')).sort(),
      Array.from({ length: 12 }, (_, m) => `monthly 2026-${String(m + 1).padStart(2, '0')}`),
    );
    // Only one year has dumps: the yearly tier keeps 2026's newest and, not full, the very first dump.
    assert.deepEqual(labels.filter((r) => r.startsWith('yearly')).sort(), [
      'yearly 2026',
      'yearly oldest (1 of 2 periods so far)',
    ]);
    // Each month's last day (12), the 6 days before 31 December, the Sundays of the two weeks before the
    // last two (the newer two are among the days), and 1 January.
    assert.equal(keep.length, 21);
    assert.ok(keep.some((d) => d.id === 'd001'));
  });

  test('ten thousand dumps: every one decided, the kept ones exactly the tiers', () => {
    const first = NOW - 10_000 * HOUR;
    const dumps = Array.from({ length: 10_000 }, (_, i) => dump(`h${i}`, first + i * HOUR));
    const decisions = decideRetention(
      dumps,
      { redundancy: 1, keep: { hourly: 24, daily: 7, weekly: 4 } },
      'UTC',
      NOW,
    );
    assert.equal(decisions.length, 10_000);
    const keep = decisions.filter((d) => d.action === 'keep');
    // 24 hours, 7 days and 4 weeks overlap in their newest dump; the newest of each day and week lies on
    // the hour before midnight.
    assert.ok(keep.length >= 24 && keep.length <= 24 + 7 + 4, `kept ${keep.length}`);
    assert.ok(keep.every((d) => d.reasons.length > 0));
  });
});
