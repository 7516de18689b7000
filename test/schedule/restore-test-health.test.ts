import assert from 'node:assert/strict';
import { test } from 'node:test';
import { restoreTestHealth } from '../../src/schedule/restore-test-health.ts';

const H = 3_600_000;
const now = new Date('2026-12-02T12:00:00Z');
const ago = (hours: number) => new Date(now.getTime() - hours * H);

test("a definition's restore tests in status: OK, FAILED until one passes, OVERDUE after every + grace, NEVER", () => {
  const cases: [string, { tested: Date | null; verified: Date | null } | undefined, string][] = [
    ['never tested', undefined, 'NEVER'],
    ['passed an hour ago', { tested: ago(1), verified: ago(1) }, 'OK'],
    ['the last one failed, an earlier one passed', { tested: ago(1), verified: ago(30) }, 'FAILED'],
    ['only failures', { tested: ago(1), verified: null }, 'FAILED'],
    ['passed, but longer ago than every + grace', { tested: ago(26), verified: ago(26) }, 'OVERDUE'],
    ['passed, within every + grace', { tested: ago(24.1), verified: ago(24.1) }, 'OK'],
  ];
  for (const [name, last, state] of cases)
    assert.equal(restoreTestHealth(last, 24 * H, now, H / 2).state, state, name);
});
