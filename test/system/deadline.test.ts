import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { deadline, MAX_TIMER_MS } from '../../src/system/deadline.ts';

describe('deadline', () => {
  test('aborts when the time is up, with the reason given, and says it expired', async () => {
    const d = deadline(20, () => 'its timeout of 20ms');
    assert.equal(d.signal.aborted, false);
    await sleep(60);
    assert.equal(d.signal.aborted, true);
    assert.equal(d.signal.reason, 'its timeout of 20ms');
    assert.equal(d.expired, true);
  });

  test('longer than one timer can wait (timeout: 30d): it does not fire at once, as a plain setTimeout would', async () => {
    const d = deadline(30 * 86_400_000, () => 'late');
    assert.ok(30 * 86_400_000 > MAX_TIMER_MS);
    await sleep(30);
    assert.equal(d.signal.aborted, false);
    assert.equal(d.expired, false);
    d.clear();
  });

  test('cleared: never aborts', async () => {
    const d = deadline(20, () => 'x');
    d.clear();
    await sleep(50);
    assert.equal(d.signal.aborted, false);
  });
});
