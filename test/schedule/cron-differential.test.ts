import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Cron } from 'croner';
import { cronNext, cronPrevious } from '../../src/schedule/cron/cron-search.ts';
import { readCron } from '../../src/schedule/cron/read-cron.ts';

// Our cron reader must accept what croner 11 accepts and answer as it does: croner is the reference here.
// Thousands of expressions from a seeded generator, in zones with DST of an hour, half an hour, none, and
// odd offsets, asked around their DST changes.

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIELDS = [
  { min: 0, max: 59 },
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12 },
  { min: 0, max: 7 },
];
const MONTHS = ['JAN', 'feb', 'Mar', 'APR', 'may', 'JUN', 'jul', 'AUG', 'sep', 'OCT', 'nov', 'DEC'];
const DAYS = ['SUN', 'mon', 'Tue', 'WED', 'thu', 'FRI', 'sat'];

function expression(r: () => number, tidy: boolean): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const int = (a: number, b: number) => a + Math.floor(r() * (b - a + 1));
  const token = (i: number): string => {
    const { min, max } = FIELDS[i] as { min: number; max: number };
    // Out of range now and then, unless the expression is to be valid.
    const lo = tidy ? min : min - 1;
    const hi = tidy ? max : max + 2;
    const v = () => String(int(lo, hi));
    const kinds: (() => string)[] = [
      () => '*',
      v,
      v,
      () => {
        const a = int(lo, hi);
        return `${a}-${Math.min(hi, a + int(0, 6))}`;
      },
      () => `*/${int(tidy ? 1 : 0, tidy ? Math.min(max, 20) : 70)}`,
      () => {
        const a = int(lo, hi);
        return `${a}-${Math.min(hi, a + int(1, 20))}/${int(1, 5)}`;
      },
    ];
    if (i === 3)
      kinds.push(
        () => 'L',
        () => 'LW',
        () => `${int(1, 31)}W`,
        () => '?',
        () => `${int(1, 28)},L`,
      );
    if (i === 4)
      kinds.push(
        () => pick(MONTHS),
        () => `${pick(MONTHS)}-${pick(MONTHS)}`,
      );
    if (i === 5)
      kinds.push(
        () => pick(DAYS),
        () => `${pick(DAYS)}-${pick(DAYS)}`,
        () => `${int(0, 6)}#${int(1, tidy ? 5 : 6)}`,
        () => `${int(0, 7)}L`,
        () => `+${int(0, 6)}`,
        () => '?',
      );
    if (!tidy)
      kinds.push(
        () => `${int(0, 9)}/${int(1, 9)}`,
        () => pick(['', 'x', '1-', '-1', '1,,2', '5-2', '**', 'L', '1W', '1#2', 'MONDAY', '1.5']),
      );
    const one = pick(kinds)();
    return r() < 0.15 && one !== '*' ? `${one},${pick(kinds)()}` : one;
  };
  const fields = [0, 1, 2, 3, 4, 5].map(token);
  // Mostly few values in seconds and minutes, so the runs are not every second.
  if (tidy && r() < 0.7) fields[0] = String(int(0, 59));
  if (tidy && r() < 0.5) fields[1] = String(int(0, 59));
  if (r() < 0.4) fields.shift();
  return fields.join(' ');
}

const ZONES = [
  'UTC',
  'Europe/Oslo',
  'America/New_York',
  'Australia/Lord_Howe',
  'Asia/Kathmandu',
  'America/Santiago',
  'Pacific/Chatham',
  'Asia/Tehran',
];

/** Instants near each zone's DST changes in 2026 and 2027, and a few anywhere. */
function references(r: () => number): number[] {
  const hour = 3_600_000;
  const changes = [
    '2026-03-29T01:00:00Z',
    '2026-10-25T01:00:00Z',
    '2026-03-08T07:00:00Z',
    '2026-11-01T06:00:00Z',
    '2026-04-04T15:00:00Z',
    '2026-10-03T15:30:00Z',
    '2026-04-05T03:00:00Z',
    '2026-09-06T04:00:00Z',
    '2026-04-04T13:45:00Z',
    '2026-09-26T14:00:00Z',
  ].map((t) => Date.parse(t));
  const out: number[] = [];
  for (const c of changes)
    for (const d of [-3, -1, 0, 1, 2]) out.push(c + d * hour + Math.floor(r() * 4) * 15 * 60_000);
  for (let i = 0; i < 6; i++)
    out.push(Date.parse('2026-01-01T00:00:00Z') + Math.floor(r() * 2 * 365 * 24) * hour + 1234);
  return out;
}

function croner(expr: string, zone: string): Cron | string {
  try {
    return new Cron(expr, { timezone: zone, paused: true });
  } catch (err) {
    return (err as Error).message;
  }
}

describe('the cron reader against croner', () => {
  test('accepts and refuses the same expressions (5 and 6 fields)', () => {
    const r = random(7);
    const differ: string[] = [];
    let accepted = 0;
    for (let i = 0; i < 6000; i++) {
      const expr = expression(r, i % 3 !== 0);
      const ours = readCron(expr);
      const theirs = croner(expr, 'UTC');
      // Ours is stricter only about a non-integer nth weekday, which croner takes as no weekday at all.
      if (ours.ok !== (typeof theirs !== 'string') && !expr.includes('.'))
        differ.push(
          `${expr}: ours ${ours.ok ? 'ok' : ours.reason}, croner ${typeof theirs === 'string' ? theirs : 'ok'}`,
        );
      if (ours.ok) accepted++;
    }
    assert.deepEqual(differ.slice(0, 10), []);
    assert.ok(accepted > 3000, `enough valid expressions to compare (${accepted})`);
  });

  test('gives the same next and previous runs in zones with and without DST', () => {
    const r = random(11);
    const differ: string[] = [];
    let compared = 0;
    for (let i = 0; i < 700; i++) {
      const expr = expression(r, true);
      const ours = readCron(expr);
      if (!ours.ok) continue;
      const zone = ZONES[i % ZONES.length] as string;
      const job = croner(expr, zone);
      if (typeof job === 'string') continue;
      const all = references(r);
      // Eight of them, drawn anywhere in the list: every zone's changes get asked about.
      for (const at of Array.from({ length: 8 }, () => all[Math.floor(r() * all.length)] as number)) {
        let a: number | null = at;
        let b: number | null = at;
        for (let step = 0; step < 4 && a !== null && b !== null; step++) {
          a = cronNext(ours.pattern, zone, a);
          b = job.nextRun(new Date(b))?.getTime() ?? null;
          compared++;
          if (a !== b)
            differ.push(
              `${expr} in ${zone} after ${iso(at)} (step ${step}): ours ${iso(a)}, croner ${iso(b)}`,
            );
        }
        const p = cronPrevious(ours.pattern, zone, at);
        const q = job.previousRuns(1, new Date(at + 1))[0]?.getTime() ?? null;
        compared++;
        if (p !== q)
          differ.push(`${expr} in ${zone} at or before ${iso(at)}: ours ${iso(p)}, croner ${iso(q)}`);
      }
    }
    assert.deepEqual(differ.slice(0, 10), []);
    assert.ok(compared > 10_000, `enough answers compared (${compared})`);
  });
});

const iso = (t: number | null) => (t === null ? 'never' : new Date(t).toISOString());
