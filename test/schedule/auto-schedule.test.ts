import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resolveSchedule, type WindowNode } from '../../src/schedule/auto-schedule.ts';
import { shiftDaysOfWeek } from '../../src/schedule/shift-days-of-week.ts';

const def = (name: string, schedule?: string) => ({ kind: 'BackupDefinition', name, schedule });
const node = (backupWindow?: WindowNode['backupWindow'], timezone?: string): WindowNode => ({
  name: 'pg01',
  backupWindow,
  defaults: timezone === undefined ? undefined : { timezone },
});
const minuteOf = (cron: string) => {
  const [m, h] = cron.split(' ').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
};

describe('resolveSchedule', () => {
  const cases: {
    name: string;
    definition: ReturnType<typeof def>;
    node: WindowNode;
    tz?: string;
    want: { cron: string; timezone: string; auto: boolean };
  }[] = [
    {
      name: 'a cron is kept, read in the definition’s own zone',
      definition: def('shop', '30 2 * * *'),
      node: node(undefined, 'Europe/Oslo'),
      tz: 'America/New_York',
      want: { cron: '30 2 * * *', timezone: 'America/New_York', auto: false },
    },
    {
      name: 'auto in the default window 01:00-06:59, in UTC when the node sets no zone',
      definition: def('shop-nightly', 'auto'),
      node: node(),
      want: { cron: '49 6 * * *', timezone: 'UTC', auto: true },
    },
    {
      name: 'an unset schedule is auto; the zone is the node’s, not the definition’s',
      definition: def('a'),
      node: node(undefined, 'Europe/Oslo'),
      tz: 'Asia/Tokyo',
      want: { cron: '56 2 * * *', timezone: 'Europe/Oslo', auto: true },
    },
    {
      name: 'a wrapping window, before midnight: the days as written',
      definition: def('a'),
      node: node({ start: '22:00', end: '04:00', daysOfWeek: '1-5' }),
      want: { cron: '56 23 * * 1-5', timezone: 'UTC', auto: true },
    },
    {
      name: 'a wrapping window, after midnight: days of week one later (Mon-Fri nights run Tue-Sat)',
      definition: def('shop-nightly'),
      node: node({ start: '22:00', end: '04:00', daysOfWeek: '1-5' }),
      want: { cron: '50 3 * * 2-6', timezone: 'UTC', auto: true },
    },
    {
      name: 'a wrapping window with days of month keeps to its part before midnight',
      definition: def('shop-nightly'),
      node: node({ start: '22:00', end: '04:00', daysOfMonth: '1,15' }),
      want: { cron: '56 23 1,15 * *', timezone: 'UTC', auto: true },
    },
    {
      name: 'a wrapping window with months keeps to its part before midnight too',
      definition: def('c'),
      node: node({ start: '23:00', end: '01:00', months: '1-6' }),
      want: { cron: '55 23 * 1-6 *', timezone: 'UTC', auto: true },
    },
    {
      name: 'the window’s day fields are passed through',
      definition: def('b'),
      node: node({ start: '01:00', end: '02:00', daysOfMonth: '1', months: '*/3', daysOfWeek: '0' }),
      want: { cron: '14 1 1 */3 0', timezone: 'UTC', auto: true },
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      assert.deepEqual(resolveSchedule(c.definition, c.node, c.tz ?? 'UTC'), c.want);
    });
  }

  test('the same on every call, and a different minute for another kind of the same name', () => {
    const a = resolveSchedule(def('shop'), node(), 'UTC');
    assert.deepEqual(resolveSchedule(def('shop'), node(), 'UTC'), a);
    const other = resolveSchedule({ kind: 'SnapshotDefinition', name: 'shop' }, node(), 'UTC');
    assert.notEqual(other.cron, a.cron);
  });

  test('spread evenly over the window: 6,000 definitions in six hours, each hour within 10% of 1,000', () => {
    const hours = new Map<number, number>();
    for (let i = 0; i < 6000; i++) {
      const { cron } = resolveSchedule(def(`db-${i}`), node({ start: '01:00', end: '07:00' }), 'UTC');
      const minute = minuteOf(cron);
      assert.ok(minute >= 60 && minute < 420, cron);
      hours.set(Math.floor(minute / 60), (hours.get(Math.floor(minute / 60)) ?? 0) + 1);
    }
    assert.equal(hours.size, 6);
    for (const n of hours.values()) assert.ok(Math.abs(n - 1000) < 100, `${[...hours]}`);
  });

  test('a wrapping window: every minute is in [22:00, 04:00), shifted days only after midnight', () => {
    for (let i = 0; i < 500; i++) {
      const w = { start: '22:00', end: '04:00', daysOfWeek: '1-5' };
      const { cron } = resolveSchedule(def(`db-${i}`), node(w), 'UTC');
      const minute = minuteOf(cron);
      assert.ok(minute >= 22 * 60 || minute < 4 * 60, cron);
      assert.ok(cron.endsWith(minute >= 22 * 60 ? '* * 1-5' : '* * 2-6'), cron);
    }
  });
});

describe('shiftDaysOfWeek', () => {
  const cases: [string, string][] = [
    ['*', '*'],
    ['1-5', '2-6'],
    ['5,6', '0,6'],
    ['6', '0'],
    ['7', '1'],
    ['0', '1'],
    ['0-6', '*'],
    ['*/2', '0,1,3,5'],
    ['1-5/2', '2,4,6'],
    ['0,3-4', '1,4,5'],
    ['3-7', '0,1,4-6'],
  ];
  for (const [field, want] of cases) {
    test(`${field} → ${want}`, () => assert.equal(shiftDaysOfWeek(field), want));
  }
  test('a field that is not a day-of-week list is refused', () => {
    for (const bad of ['8', '5-1', '1/2', 'x', '']) {
      assert.throws(() => shiftDaysOfWeek(bad), { code: 'INVALID_INPUT' }, bad);
    }
  });
});
