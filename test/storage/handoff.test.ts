import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { Handoff } from '../../src/storage/handoff.ts';

/** Whether `p` has settled after the event loop turned. */
async function settledYet(p: Promise<unknown>): Promise<boolean> {
  let settled = false;
  p.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  await tick();
  return settled;
}

describe('a handoff passes the writer’s buffer to its consumer without a copy', () => {
  test('a write resolves only once the consumer asks for the next chunk, so the buffer is reused safely', async () => {
    const h = new Handoff();
    const buffer = Buffer.from('first');
    const it = h[Symbol.asyncIterator]();
    const first = h.write(buffer);
    const got = await it.next();
    assert.equal(got.value?.toString(), 'first');
    // The consumer holds the bytes: the writer may not reuse its buffer yet.
    assert.equal(await settledYet(first), false);
    const next = it.next();
    await first;
    buffer.write('secon');
    const second = h.write(buffer.subarray(0, 5));
    assert.equal((await next).value?.toString(), 'secon');
    h.end();
    const last = await it.next();
    await second;
    assert.equal(last.done, true);
  });

  test('a for-await consumer gets every chunk in order and the loop ends after end()', async () => {
    const h = new Handoff();
    const got: string[] = [];
    const consumer = (async () => {
      for await (const chunk of h) got.push(chunk.toString());
    })();
    const reused = Buffer.alloc(3);
    for (const s of ['abc', 'def', 'ghi']) {
      reused.write(s);
      await h.write(reused);
    }
    h.end();
    await consumer;
    assert.deepEqual(got, ['abc', 'def', 'ghi']);
  });

  test('a consumer that stops early fails the pending write and says it stopped', async () => {
    const h = new Handoff();
    const consumer = (async () => {
      for await (const _ of h) throw new Error('upload refused');
    })();
    const write = h.write(Buffer.from('x'));
    await assert.rejects(consumer, /upload refused/);
    await assert.rejects(write, /consumer stopped reading/);
    assert.equal(h.consumerStopped, true);
    await assert.rejects(h.write(Buffer.from('y')), /consumer stopped reading/);
  });

  test('destroy fails both the consumer waiting for bytes and the writer waiting on it', async () => {
    const h = new Handoff();
    const it = h[Symbol.asyncIterator]();
    const waiting = it.next();
    h.destroy(new Error('the run stopped'));
    await assert.rejects(waiting, /the run stopped/);
    assert.equal(h.consumerStopped, false);

    const h2 = new Handoff();
    const write = h2.write(Buffer.from('x'));
    h2.destroy(new Error('abandoned'));
    await assert.rejects(write, /abandoned/);
  });

  test('a second write while one is pending is refused, not silently queued', async () => {
    const h = new Handoff();
    const first = h.write(Buffer.from('a'));
    await assert.rejects(h.write(Buffer.from('b')), /pending/);
    h.destroy(new Error('done'));
    await assert.rejects(first, /done/);
  });
});
