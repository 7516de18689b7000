import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { missedRuns, nextRun, previousRun, scheduleInterval } from '../../src/schedule/next-runs.ts';

const iso = (d: Date | null | undefined) => d?.toISOString().replace('.000Z', 'Z') ?? null;
const at = (text: string) => new Date(text);
const HOUR = 3_600_000;

describe('nextRun', () => {
  // Oslo: 2026-03-29 02:00 CET jumps to 03:00 CEST; 2026-10-25 03:00 CEST falls back to 02:00 CET.
  const cases: { name: string; cron: string; tz: string; after: string; want: string | null }[] = [
    {
      name: 'strictly after',
      cron: '0 3 * * *',
      tz: 'UTC',
      after: '2026-01-01T03:00:00Z',
      want: '2026-01-02T03:00:00Z',
    },
    {
      name: 'milliseconds before a run',
      cron: '0 3 * * *',
      tz: 'UTC',
      after: '2026-01-01T02:59:59.500Z',
      want: '2026-01-01T03:00:00Z',
    },
    {
      name: 'read in the zone (CET = UTC+1)',
      cron: '30 2 * * *',
      tz: 'Europe/Oslo',
      after: '2026-01-10T00:00:00Z',
      want: '2026-01-10T01:30:00Z',
    },
    {
      name: 'DST spring forward: 02:30 does not exist, the fixed-time job runs at 03:00 CEST',
      cron: '30 2 * * *',
      tz: 'Europe/Oslo',
      after: '2026-03-28T12:00:00Z',
      want: '2026-03-29T01:00:00Z',
    },
    {
      name: 'the day after spring forward: 02:30 CEST',
      cron: '30 2 * * *',
      tz: 'Europe/Oslo',
      after: '2026-03-29T12:00:00Z',
      want: '2026-03-30T00:30:00Z',
    },
    {
      name: 'DST fall back: 02:30 happens twice, the fixed-time job runs at the first (CEST)',
      cron: '30 2 * * *',
      tz: 'Europe/Oslo',
      after: '2026-10-24T12:00:00Z',
      want: '2026-10-25T00:30:00Z',
    },
    {
      name: 'DST fall back: and not again at 02:30 CET',
      cron: '30 2 * * *',
      tz: 'Europe/Oslo',
      after: '2026-10-25T00:30:00Z',
      want: '2026-10-26T01:30:00Z',
    },
    {
      name: '6 fields, seconds first',
      cron: '15 30 2 * * *',
      tz: 'UTC',
      after: '2026-01-01T00:00:00Z',
      want: '2026-01-01T02:30:15Z',
    },
    {
      name: 'day of month OR day of week when both are set (Vixie cron)',
      cron: '0 3 13 * 5',
      tz: 'UTC',
      after: '2026-02-01T00:00:00Z',
      want: '2026-02-06T03:00:00Z',
    },
    { name: 'never: 30 February', cron: '0 0 30 2 *', tz: 'UTC', after: '2026-01-01T00:00:00Z', want: null },
  ];
  for (const c of cases) {
    test(c.name, () => assert.equal(iso(nextRun(c.cron, c.tz, at(c.after))), c.want));
  }
});

describe('previousRun', () => {
  test('at a due time, that due time', () => {
    assert.equal(iso(previousRun('0 3 * * *', 'UTC', at('2026-01-01T03:00:00Z'))), '2026-01-01T03:00:00Z');
    assert.equal(
      iso(previousRun('0 3 * * *', 'UTC', at('2026-01-01T02:59:59.999Z'))),
      '2025-12-31T03:00:00Z',
    );
  });
});

describe('missedRuns', () => {
  const cases: {
    name: string;
    cron: string;
    tz?: string;
    from: string;
    to: string;
    limit?: number;
    want: string[];
    truncated?: boolean;
  }[] = [
    {
      name: 'the due times in (from, to]: from excluded, to included',
      cron: '0 3 * * *',
      from: '2026-01-01T03:00:00Z',
      to: '2026-01-03T03:00:00Z',
      want: ['2026-01-02T03:00:00Z', '2026-01-03T03:00:00Z'],
    },
    {
      name: 'none when the agent was down between two runs',
      cron: '0 3 * * *',
      from: '2026-01-01T04:00:00Z',
      to: '2026-01-02T02:00:00Z',
      want: [],
    },
    {
      name: 'truncated at the limit, oldest first',
      cron: '0 * * * *',
      from: '2026-01-01T00:00:00Z',
      to: '2026-01-02T00:00:00Z',
      limit: 3,
      want: ['2026-01-01T01:00:00Z', '2026-01-01T02:00:00Z', '2026-01-01T03:00:00Z'],
      truncated: true,
    },
    {
      name: 'exactly the limit is not truncated',
      cron: '0 * * * *',
      from: '2026-01-01T00:00:00Z',
      to: '2026-01-01T03:00:00Z',
      limit: 3,
      want: ['2026-01-01T01:00:00Z', '2026-01-01T02:00:00Z', '2026-01-01T03:00:00Z'],
    },
    {
      name: 'DST fall back: an interval job runs on both 02:00 and both 02:30',
      cron: '*/30 2 * * *',
      tz: 'Europe/Oslo',
      from: '2026-10-24T12:00:00Z',
      to: '2026-10-25T12:00:00Z',
      want: ['2026-10-25T00:00:00Z', '2026-10-25T00:30:00Z', '2026-10-25T01:00:00Z', '2026-10-25T01:30:00Z'],
    },
    {
      name: 'DST spring forward: an interval job in the missing hour does not run that day',
      cron: '*/30 2 * * *',
      tz: 'Europe/Oslo',
      from: '2026-03-28T12:00:00Z',
      to: '2026-03-30T00:00:00Z',
      want: ['2026-03-30T00:00:00Z'],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const r = missedRuns(c.cron, c.tz ?? 'UTC', at(c.from), at(c.to), c.limit);
      assert.deepEqual(
        { times: r.times.map(iso), truncated: r.truncated },
        { times: c.want, truncated: c.truncated ?? false },
      );
    });
  }
});

describe('scheduleInterval', () => {
  const cases: { name: string; cron: string; tz?: string; at: string; want: number }[] = [
    { name: 'daily', cron: '0 3 * * *', at: '2026-01-01T12:00:00Z', want: 24 * HOUR },
    {
      name: 'at a due time, the interval that starts there',
      cron: '0 3 * * *',
      at: '2026-01-01T03:00:00Z',
      want: 24 * HOUR,
    },
    { name: 'every five minutes', cron: '*/5 * * * *', at: '2026-01-01T12:02:00Z', want: 5 * 60_000 },
    {
      name: 'weekdays: Friday to Monday is three days',
      cron: '0 3 * * 1-5',
      at: '2026-01-03T12:00:00Z',
      want: 72 * HOUR,
    },
    {
      name: 'DST spring forward: 02:30 CET to 03:00 CEST is 23.5 hours',
      cron: '30 2 * * *',
      tz: 'Europe/Oslo',
      at: '2026-03-28T12:00:00Z',
      want: 23.5 * HOUR,
    },
    {
      name: 'and from 03:00 CEST back to 02:30 CEST, 23.5 hours',
      cron: '30 2 * * *',
      tz: 'Europe/Oslo',
      at: '2026-03-29T12:00:00Z',
      want: 23.5 * HOUR,
    },
    {
      name: 'DST fall back: the day into it, 24 hours (02:30 CEST to the first 02:30 CEST)',
      cron: '30 2 * * *',
      tz: 'Europe/Oslo',
      at: '2026-10-24T12:00:00Z',
      want: 24 * HOUR,
    },
    {
      name: 'DST fall back: the day out of it, 25 hours (02:30 CEST to 02:30 CET)',
      cron: '30 2 * * *',
      tz: 'Europe/Oslo',
      at: '2026-10-25T12:00:00Z',
      want: 25 * HOUR,
    },
  ];
  for (const c of cases) {
    test(c.name, () => assert.equal(scheduleInterval(c.cron, c.tz ?? 'UTC', at(c.at)), c.want));
  }
  test('a schedule that never runs is refused', () => {
    assert.throws(() => scheduleInterval('0 0 30 2 *', 'UTC', new Date()), { code: 'INVALID_INPUT' });
  });
});
