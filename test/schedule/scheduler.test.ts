import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { silentLogger } from '../../src/observability/logger.ts';
import { DueQueue } from '../../src/schedule/due-queue.ts';
import { type ScheduleEntry, Scheduler, type Timing } from '../../src/schedule/scheduler.ts';

const entry = (key: string, timing: Timing, hash = 'h1'): ScheduleEntry<string> => ({
  key,
  hash,
  timing,
  payload: key,
});
const every = (seconds: number): Timing => ({
  kind: 'cron',
  pattern: `*/${seconds} * * * * *`,
  timezone: 'UTC',
});

describe('the scheduler', () => {
  test('the due queue gives back the earliest time first, whatever the order of pushes', () => {
    const q = new DueQueue();
    const times = [50, 10, 40, 10, 30, 20, 60, 0];
    times.forEach((at, i) => {
      q.push(`k${i}`, at);
    });
    const out: number[] = [];
    for (let top = q.pop(); top !== undefined; top = q.pop()) out.push(top.at);
    assert.deepEqual(
      out,
      [...times].sort((a, b) => a - b),
    );
  });

  test('sync counts what it added, changed and removed; an unchanged entry keeps its due time', () => {
    const s = new Scheduler<string>(() => undefined, silentLogger);
    assert.deepEqual(s.sync([entry('a', every(10)), entry('b', every(20))]), {
      added: 2,
      changed: 0,
      removed: 0,
    });
    const due = s.nextRun('a');
    assert.ok(due !== null && due.getTime() > Date.now());
    assert.deepEqual(s.sync([entry('a', every(10)), entry('c', every(30))]), {
      added: 1,
      changed: 0,
      removed: 1,
    });
    assert.equal(s.nextRun('a')?.getTime(), due.getTime());
    assert.equal(s.nextRun('b'), null);
    assert.deepEqual(s.sync([entry('a', every(15), 'h2'), entry('c', every(30))]), {
      added: 0,
      changed: 1,
      removed: 0,
    });
    s.stop();
  });

  test('entries fire at their due times, each once per due time, and a removed one never fires', async () => {
    const fired: string[] = [];
    const s = new Scheduler<string>((e) => fired.push(e.key), silentLogger);
    s.sync([entry('often', every(1)), entry('gone', every(1))]);
    s.sync([entry('often', every(1))]);
    await sleep(2_300);
    s.stop();
    const n = fired.filter((k) => k === 'often').length;
    assert.ok(n >= 2 && n <= 3, `fired ${n} times in 2.3 s`);
    assert.ok(!fired.includes('gone'));
  });

  test('a snapshot whose time has passed is due at once, and only once', async () => {
    const fired: string[] = [];
    const s = new Scheduler<string>((e) => fired.push(e.key), silentLogger);
    s.sync([entry('late-snapshot', { kind: 'once', at: new Date(Date.now() - 60_000) })]);
    await sleep(100);
    s.sync([entry('late-snapshot', { kind: 'once', at: new Date(Date.now() - 60_000) })]);
    await sleep(100);
    s.stop();
    assert.deepEqual(fired, ['late-snapshot']);
  });

  test('20,000 entries on a few hundred schedules are scheduled without a timer each', () => {
    const s = new Scheduler<string>(() => undefined, silentLogger);
    const entries = Array.from({ length: 20_000 }, (_, i) =>
      entry(`d${i}`, { kind: 'cron', pattern: `${i % 60} ${1 + (i % 6)} * * *`, timezone: 'Europe/Oslo' }),
    );
    assert.deepEqual(s.sync(entries), { added: 20_000, changed: 0, removed: 0 });
    assert.equal(s.size, 20_000);
    s.stop();
  });
});
