import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  DEFAULT_GRACE_MS,
  definitionHealth,
  type HealthInput,
  isUnhealthy,
  type SnapshotHealthInput,
  snapshotHealth,
} from '../../src/schedule/overdue.ts';

const at = (text: string) => new Date(text);
const iso = (d: Date | null) => d?.toISOString().replace('.000Z', 'Z') ?? null;
const MINUTE = 60_000;

// A daily 03:00 UTC job, created long ago, checked at noon on 2026-12-02 unless a case says otherwise.
const base: HealthInput = {
  lastSuccessAt: at('2026-12-02T03:05:00Z'),
  lastFailure: null,
  cron: '0 3 * * *',
  timezone: 'UTC',
  now: at('2026-12-02T12:00:00Z'),
  grace: DEFAULT_GRACE_MS,
  createdAt: at('2026-11-01T00:00:00Z'),
  suspended: false,
};

describe('definitionHealth', () => {
  const cases: { name: string; input: Partial<HealthInput>; want: [string, string | null, string | null] }[] =
    [
      {
        name: 'OK: today’s run succeeded; due again by tomorrow 03:10',
        input: {},
        want: ['OK', '2026-12-03T03:00:00Z', '2026-12-03T03:10:00Z'],
      },
      {
        name: 'OK: within grace of the next due time',
        input: { now: at('2026-12-03T03:09:59Z') },
        want: ['OK', '2026-12-04T03:00:00Z', '2026-12-03T03:10:00Z'],
      },
      {
        name: 'OVERDUE: the next due time plus grace has passed without a success',
        input: { now: at('2026-12-03T03:10:01Z') },
        want: ['OVERDUE', '2026-12-04T03:00:00Z', '2026-12-03T03:10:00Z'],
      },
      {
        name: 'a longer grace covers a long dump',
        input: { now: at('2026-12-03T04:00:00Z'), grace: 2 * 60 * MINUTE },
        want: ['OK', '2026-12-04T03:00:00Z', '2026-12-03T05:00:00Z'],
      },
      {
        name: 'a success just before its due time (a manual run) answers that due time',
        input: { lastSuccessAt: at('2026-12-02T02:59:00Z'), now: at('2026-12-02T03:30:00Z') },
        want: ['OVERDUE', '2026-12-03T03:00:00Z', '2026-12-02T03:10:00Z'],
      },
      {
        name: 'weekdays: a Friday success is not overdue over the weekend',
        input: {
          cron: '0 3 * * 1-5',
          lastSuccessAt: at('2026-12-04T03:20:00Z'),
          now: at('2026-12-06T23:00:00Z'),
        },
        want: ['OK', '2026-12-07T03:00:00Z', '2026-12-07T03:10:00Z'],
      },
      {
        name: 'FAILING: a failure newer than the last success, even before the deadline',
        input: { lastFailure: { at: at('2026-12-02T11:00:00Z') } },
        want: ['FAILING', '2026-12-03T03:00:00Z', '2026-12-03T03:10:00Z'],
      },
      {
        name: 'a failure older than the last success is history',
        input: { lastFailure: { at: at('2026-12-01T03:01:00Z') } },
        want: ['OK', '2026-12-03T03:00:00Z', '2026-12-03T03:10:00Z'],
      },
      {
        name: 'FAILING beats OVERDUE',
        input: { lastFailure: { at: at('2026-12-03T03:02:00Z') }, now: at('2026-12-04T12:00:00Z') },
        want: ['FAILING', '2026-12-05T03:00:00Z', '2026-12-03T03:10:00Z'],
      },
      {
        name: 'NEVER: created less than one interval ago, past its first due time',
        input: {
          lastSuccessAt: null,
          createdAt: at('2026-12-02T02:00:00Z'),
          now: at('2026-12-02T12:00:00Z'),
        },
        want: ['NEVER', '2026-12-03T03:00:00Z', '2026-12-03T02:10:00Z'],
      },
      {
        name: 'OVERDUE: created more than one interval (plus grace) ago and never succeeded',
        input: {
          lastSuccessAt: null,
          createdAt: at('2026-12-01T02:00:00Z'),
          now: at('2026-12-02T12:00:00Z'),
        },
        want: ['OVERDUE', '2026-12-03T03:00:00Z', '2026-12-02T02:10:00Z'],
      },
      {
        name: 'FAILING: never succeeded, failed once',
        input: { lastSuccessAt: null, lastFailure: { at: at('2026-12-02T03:01:00Z') } },
        want: ['FAILING', '2026-12-03T03:00:00Z', '2026-11-02T00:10:00Z'],
      },
      {
        name: 'SUSPENDED: nothing is due, whatever the runs say',
        input: {
          suspended: true,
          lastFailure: { at: at('2026-12-02T11:00:00Z') },
          now: at('2027-01-01T00:00:00Z'),
        },
        want: ['SUSPENDED', null, null],
      },
      {
        name: 'DST: a daily 02:30 Oslo job due on the spring-forward day at 03:00 CEST (01:00Z)',
        input: {
          cron: '30 2 * * *',
          timezone: 'Europe/Oslo',
          lastSuccessAt: at('2026-03-28T01:40:00Z'),
          now: at('2026-03-29T01:10:30Z'),
        },
        want: ['OVERDUE', '2026-03-30T00:30:00Z', '2026-03-29T01:10:00Z'],
      },
      {
        name: 'DST: on the fall-back day the job is due once, at the first 02:30 (00:30Z)',
        input: {
          cron: '30 2 * * *',
          timezone: 'Europe/Oslo',
          lastSuccessAt: at('2026-10-25T00:35:00Z'),
          now: at('2026-10-25T01:45:00Z'),
        },
        want: ['OK', '2026-10-26T01:30:00Z', '2026-10-26T01:40:00Z'],
      },
    ];
  for (const c of cases) {
    test(c.name, () => {
      const h = definitionHealth({ ...base, ...c.input });
      assert.deepEqual([h.state, iso(h.nextRun), iso(h.dueBy)], c.want);
    });
  }
});

describe('snapshotHealth', () => {
  const snap: SnapshotHealthInput = {
    at: at('2026-12-02T12:00:00Z'),
    lastSuccessAt: null,
    lastFailure: null,
    now: at('2026-12-02T11:00:00Z'),
    grace: DEFAULT_GRACE_MS,
    suspended: false,
  };
  const cases: {
    name: string;
    input: Partial<SnapshotHealthInput>;
    want: [string, string | null];
  }[] = [
    {
      name: 'NEVER before its time; next run is its time',
      input: {},
      want: ['NEVER', '2026-12-02T12:00:00Z'],
    },
    { name: 'still NEVER within grace', input: { now: at('2026-12-02T12:09:00Z') }, want: ['NEVER', null] },
    {
      name: 'OVERDUE once its time plus grace passed',
      input: { now: at('2026-12-02T12:11:00Z') },
      want: ['OVERDUE', null],
    },
    {
      name: 'FAILING after a failure',
      input: { lastFailure: { at: at('2026-12-02T12:01:00Z') }, now: at('2026-12-02T12:05:00Z') },
      want: ['FAILING', null],
    },
    {
      name: 'OK once taken',
      input: { lastSuccessAt: at('2026-12-02T12:05:00Z'), now: at('2027-01-01T00:00:00Z') },
      want: ['OK', null],
    },
    { name: 'SUSPENDED', input: { suspended: true }, want: ['SUSPENDED', null] },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const h = snapshotHealth({ ...snap, ...c.input });
      assert.deepEqual([h.state, iso(h.nextRun)], c.want);
    });
  }
});

test('isUnhealthy: only OVERDUE and FAILING fail status', () => {
  const states = ['OK', 'OVERDUE', 'NEVER', 'SUSPENDED', 'FAILING'] as const;
  assert.deepEqual(
    states.filter((s) => isUnhealthy(s)),
    ['OVERDUE', 'FAILING'],
  );
});
