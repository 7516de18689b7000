import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { utcText } from '../../src/cli/schedule-text.ts';
import { isoTime } from '../../src/retention/iso-time.ts';

const DAY = 86_400_000;

describe('isoTime: a dump time as toISOString writes it', () => {
  const cases: [string, number][] = [
    ['the epoch', 0],
    ['a millisecond before it', -1],
    ['midnight and the last millisecond of a day', Date.parse('2026-11-30T00:00:00Z')],
    ['the last millisecond of a day', Date.parse('2026-11-30T23:59:59.999Z')],
    ['a leap day', Date.parse('2028-02-29T12:34:56.007Z')],
    ['year 1', Date.parse('0001-01-01T00:00:00.001Z')],
    ['year 9999', Date.parse('9999-12-31T23:59:59.999Z')],
    ['past 9999 (a longer form)', Date.parse('+010000-01-01T00:00:00.000Z')],
    ['before year 0 (a longer form)', Date.parse('-000001-06-01T00:00:00.000Z')],
  ];
  for (const [name, ms] of cases) test(name, () => assert.equal(isoTime(ms), new Date(ms).toISOString()));

  test('a million times over forty years, the same as Date, twice (the cached days)', () => {
    const from = Date.parse('2000-01-01T00:00:00Z');
    for (let pass = 0; pass < 2; pass++)
      for (let i = 0; i < 1_000_000; i++) {
        const ms = from + ((i * 1_234_567_891) % (40 * 365 * DAY));
        if (isoTime(ms) !== new Date(ms).toISOString())
          assert.fail(`${ms}: ${isoTime(ms)} is not ${new Date(ms).toISOString()}`);
      }
  });

  test('not a time: throws as Date does', () => assert.throws(() => isoTime(Number.NaN), RangeError));
});

describe('utcText: a time to the second', () => {
  for (const [iso, text] of [
    ['2026-11-30T23:59:59.999Z', '2026-11-30T23:59:59Z'],
    ['2026-11-30T23:59:59.5Z', '2026-11-30T23:59:59Z'],
    ['2026-11-30T23:59:59Z', '2026-11-30T23:59:59Z'],
    ['2026-11-30T23:59:59.x9Z', '2026-11-30T23:59:59.x9Z'],
    ['2026-11-30T23:59:59.12xZ', '2026-11-30T23:59:59.12xZ'],
    ['+010000-01-01T00:00:00.000Z', '+010000-01-01T00:00:00Z'],
  ] as const)
    test(`${iso} → ${text}`, () => assert.equal(utcText(iso), text));
  test('none: a dash', () => assert.equal(utcText(null), '-'));
});
