import assert from 'node:assert/strict';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { readNodeInfo } from '../../../src/backup/dump/node-info.ts';
import { isPgbackmanError } from '../../../src/errors.ts';

/**
 * A server that lets a client log in (AuthenticationOk, ReadyForQuery) and then never answers anything:
 * a node that hung after the connection was made.
 */
function startMuteNode(): Promise<{ port: number; close(): void }> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    let greeted = false;
    socket.on('data', () => {
      if (greeted) return; // every query: silence
      greeted = true;
      const ok = Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 0]); // 'R' AuthenticationOk
      const ready = Buffer.from([0x5a, 0, 0, 0, 5, 0x49]); // 'Z' ReadyForQuery, idle
      socket.write(Buffer.concat([ok, ready]));
    });
    socket.on('error', () => undefined);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () => {
          for (const s of sockets) s.destroy();
          server.close();
        },
      }),
    ),
  );
}

describe('a node that logs the run in and then stops answering', () => {
  let mute: { port: number; close(): void };
  before(async () => {
    mute = await startMuteNode();
  });
  after(() => mute?.close());

  test('the question before the dump fails as NODE_UNREACHABLE after its timeout, and the connection is let go', async () => {
    const started = Date.now();
    const err = await readNodeInfo(
      { host: '127.0.0.1', port: mute.port, sslMode: 'disable' },
      'shop',
      {},
      { timeoutMs: 1_000 },
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(isPgbackmanError(err, 'NODE_UNREACHABLE'), String(err));
    assert.match((err as Error).message, /^127\.0\.0\.1:\d+ did not answer within 1 s$/);
    // 1 s for the answer, at most 2 s more for a goodbye the node never sends.
    assert.ok(Date.now() - started < 6_000, `took ${Date.now() - started} ms`);
  });
});
