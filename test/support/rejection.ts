import assert from 'node:assert/strict';

/** The error a promise rejects with, to assert on its code and message; fails the test when it resolves. */
export async function rejection(p: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await p;
  } catch (err) {
    return err as { code?: string; message: string };
  }
  assert.fail('expected a rejection');
}
