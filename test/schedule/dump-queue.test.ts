import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DumpQueue, type QueueItem } from '../../src/schedule/dump-queue.ts';

/** A queue whose work ends only when the test says so, and a log of what started when. */
function harness(limits: { server: number; node: Record<string, number> }) {
  const started: string[] = [];
  const finish = new Map<string, () => void>();
  const queue = new DumpQueue<null>(
    { server: limits.server, node: (n) => limits.node[n] ?? 1 },
    (item: QueueItem<null>) =>
      new Promise<void>((resolve) => {
        started.push(item.key);
        finish.set(item.key, resolve);
      }),
  );
  const end = async (key: string) => {
    finish.get(key)?.();
    await new Promise((r) => setImmediate(r));
  };
  const offer = (key: string, node: string) => queue.offer({ key, node, payload: null });
  return { queue, started, end, offer };
}

describe('the dump queue', () => {
  test('at most the server limit run at once; the rest wait in arrival order', async () => {
    const h = harness({ server: 2, node: { a: 5 } });
    for (const k of ['d1', 'd2', 'd3', 'd4']) assert.equal(h.offer(k, 'a'), 'queued');
    assert.deepEqual(h.started, ['d1', 'd2']);
    assert.equal(h.queue.depth, 2);
    await h.end('d2');
    assert.deepEqual(h.started, ['d1', 'd2', 'd3']);
    await h.end('d1');
    assert.deepEqual(h.started, ['d1', 'd2', 'd3', 'd4']);
  });

  test("a busy node holds back only its own work, never another node's", async () => {
    const h = harness({ server: 4, node: { a: 1, b: 1 } });
    h.offer('a1', 'a');
    h.offer('a2', 'a');
    h.offer('b1', 'b');
    assert.deepEqual(h.started, ['a1', 'b1']);
    await h.end('a1');
    assert.deepEqual(h.started, ['a1', 'b1', 'a2']);
  });

  test('a definition is never queued or run twice at once', async () => {
    const h = harness({ server: 1, node: { a: 1 } });
    assert.equal(h.offer('d1', 'a'), 'queued');
    assert.equal(h.offer('d1', 'a'), 'already-running');
    assert.equal(h.offer('d2', 'a'), 'queued');
    assert.equal(h.offer('d2', 'a'), 'already-queued');
    await h.end('d1');
    assert.equal(h.offer('d1', 'a'), 'queued', 'once finished it may run again');
  });

  test('stop: nothing more starts, what waits is handed back, idle resolves when the running end', async () => {
    const h = harness({ server: 1, node: { a: 1 } });
    h.offer('d1', 'a');
    h.offer('d2', 'a');
    const dropped = h.queue.stop();
    assert.deepEqual(
      dropped.map((d) => d.key),
      ['d2'],
    );
    assert.equal(h.offer('d3', 'a'), 'stopped');
    let idle = false;
    const waiting = h.queue.idle().then(() => {
      idle = true;
    });
    await new Promise((r) => setImmediate(r));
    assert.equal(idle, false);
    await h.end('d1');
    await waiting;
    assert.deepEqual(h.started, ['d1']);
  });
});
