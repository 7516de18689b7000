import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, test } from 'node:test';
import { linkSignals } from '../../src/system/link-signals.ts';

describe('linkSignals: one signal for a call that stops on its own signal or on its destination closing', () => {
  test('fires with the reason of whichever fires first', () => {
    const closing = new AbortController();
    const call = new AbortController();
    const linked = linkSignals(closing.signal, call.signal);
    assert.equal(linked.signal.aborted, false);
    call.abort('run stopped');
    assert.equal(linked.signal.reason, 'run stopped');
    closing.abort('closed');
    assert.equal(linked.signal.reason, 'run stopped');
  });

  test('is aborted at once when either already is', () => {
    const closing = new AbortController();
    closing.abort('closed');
    assert.equal(linkSignals(closing.signal, undefined).signal.reason, 'closed');
    const call = AbortSignal.abort('timed out');
    assert.equal(linkSignals(new AbortController().signal, call).signal.reason, 'timed out');
  });

  test('once released, leaves no listener on the long-lived signal, however many calls it served', () => {
    const closing = new AbortController();
    for (let i = 0; i < 1000; i++) {
      const call = new AbortController();
      const linked = linkSignals(closing.signal, call.signal);
      linked.release();
      assert.equal(getEventListeners(call.signal, 'abort').length, 0);
    }
    assert.equal(getEventListeners(closing.signal, 'abort').length, 0);
  });
});
