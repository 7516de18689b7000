import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { isPgbackmanError } from '../../src/errors.ts';
import {
  type HealthReport,
  type HttpListener,
  parseListen,
  startHttpListener,
} from '../../src/observability/http-listener.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { AgentMetrics } from '../../src/observability/metrics.ts';
import { METRIC_TYPES } from '../support/metric-names.ts';
import { parsePromText } from '../support/prom-text.ts';

const healthy: HealthReport = {
  catalogue: { mode: 'spooling', message: 'catalogue unreachable since 03:00; 2 runs spooled' },
  source: { ready: true, message: 'fetched main@sha1:abcd' },
  schedule: { ready: true, message: '3 definitions scheduled' },
};

function captureLogger() {
  const stream = new PassThrough();
  const lines: string[] = [];
  stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
  return { logger: createLogger({ format: 'json', stream }), lines };
}

describe('the HTTP listener', () => {
  let health: () => HealthReport = () => healthy;
  let listener: HttpListener;
  let base: string;
  const { logger, lines } = captureLogger();
  const metrics = new AgentMetrics({ version: '9.9.9' });
  before(async () => {
    listener = await startHttpListener({ listen: '127.0.0.1:0', metrics, health: () => health(), logger });
    base = `http://${listener.address}`;
  });
  after(() => listener.close());

  test('binds where asked and says where, with the port it got', () => {
    assert.match(listener.address, /^127\.0\.0\.1:[1-9]\d*$/);
  });

  test('/healthz answers 200 ok while the process runs', async () => {
    const res = await fetch(`${base}/healthz`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'ok\n');
  });

  test('/readyz: 200 and every check when ready; a spooling catalogue is ready and says so', async () => {
    health = () => healthy;
    const res = await fetch(`${base}/readyz`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(await res.json(), {
      ready: true,
      checks: {
        catalogue: { ready: true, mode: 'spooling', message: healthy.catalogue.message },
        source: { ready: true, message: 'fetched main@sha1:abcd' },
        schedule: { ready: true, message: '3 definitions scheduled' },
      },
    });
  });

  test('/readyz: 503 naming the check that fails, the same shape', async () => {
    health = () => ({ ...healthy, source: { ready: false, message: 'never fetched: git clone timed out' } });
    const res = await fetch(`${base}/readyz`);
    assert.equal(res.status, 503);
    const body = (await res.json()) as { ready: boolean; checks: Record<string, { ready: boolean }> };
    assert.equal(body.ready, false);
    assert.deepEqual(body.checks.source, { ready: false, message: 'never fetched: git clone timed out' });
    assert.equal(body.checks.schedule?.ready, true);
    health = () => ({ ...healthy, catalogue: { mode: 'unavailable', message: 'no catalogue and no cache' } });
    const down = await fetch(`${base}/readyz`);
    assert.equal(down.status, 503);
    assert.equal(((await down.json()) as typeof body).checks.catalogue?.ready, false);
  });

  test('/metrics: Prometheus text with its content type, every metric with its TYPE', async () => {
    metrics.runFinished({
      definition: 'shop',
      node: 'pg01',
      database: 'shop',
      status: 'SUCCEEDED',
      durationMs: 1000,
      bytes: 10,
      finishedAt: new Date(),
    });
    const res = await fetch(`${base}/metrics?ignored=1`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4; charset=utf-8$/);
    const families = parsePromText(await res.text());
    for (const [name, type] of Object.entries(METRIC_TYPES))
      assert.equal(families.get(name)?.type, type, name);
    assert.equal(families.get('pgbackman_build_info')?.samples[0]?.labels.version, '9.9.9');
  });

  test('other paths are 404, other methods 405 with Allow; HEAD has headers and no body', async () => {
    assert.equal((await fetch(`${base}/`)).status, 404);
    assert.equal((await fetch(`${base}/metrics/x`)).status, 404);
    const post = await fetch(`${base}/metrics`, { method: 'POST', body: 'x' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
    const head = await fetch(`${base}/healthz`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), '3');
    assert.equal(await head.text(), '');
  });

  test('a health callback that throws is a 500 and a logged error; the listener keeps serving', async () => {
    health = () => {
      throw new Error('boom');
    };
    const res = await fetch(`${base}/readyz`);
    assert.equal(res.status, 500);
    assert.equal(await res.text(), 'internal error\n');
    assert.ok(
      lines.some((l) => l.includes('"msg":"http listener: the request failed"') && l.includes('boom')),
    );
    health = () => healthy;
    assert.equal((await fetch(`${base}/readyz`)).status, 200);
  });
});

describe('starting and stopping the listener', () => {
  const options = { metrics: new AgentMetrics({ version: 'x' }), health: () => healthy, ...captureLogger() };

  test('a port in use is a USAGE error naming --listen and the address, not a stack trace', async () => {
    const first = await startHttpListener({ ...options, listen: '127.0.0.1:0' });
    try {
      await assert.rejects(startHttpListener({ ...options, listen: first.address }), (err: unknown) => {
        assert.ok(isPgbackmanError(err, 'USAGE'));
        assert.equal(err.message, `--listen ${first.address}: address already in use`);
        return true;
      });
    } finally {
      await first.close();
    }
  });

  test('an address this host does not have is a clear error', async () => {
    await assert.rejects(startHttpListener({ ...options, listen: '192.0.2.1:0' }), {
      message: '--listen 192.0.2.1:0: no such address on this host',
    });
  });

  test('close() returns promptly with a keep-alive connection open, and twice is harmless', async () => {
    const listener = await startHttpListener({ ...options, listen: '127.0.0.1:0' });
    const agent = new Agent({ keepAlive: true });
    const [host, port] = listener.address.split(':');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host, port, path: '/healthz', agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 200);
    assert.equal(Object.keys(agent.freeSockets).length, 1, 'the connection is kept alive');
    // And one client in the middle of its request (not idle: server.close() alone would wait for it).
    const slow = connect(Number(port), host);
    await once(slow, 'connect');
    slow.write('GET /metrics HTTP/1.1\r\nHost: x\r\n');
    slow.on('error', () => undefined); // reset by the server: what close() is for
    const slowClosed = new Promise((resolve) => slow.on('close', resolve));
    const started = performance.now();
    await listener.close();
    await listener.close();
    assert.ok(performance.now() - started < 1000, `close took ${performance.now() - started} ms`);
    await slowClosed;
    agent.destroy();
  });
});

describe('--listen', () => {
  test('HOST:PORT, [IPv6]:PORT, :PORT (every interface), a host name, port 0, none', () => {
    assert.deepEqual(parseListen('127.0.0.1:9187'), { host: '127.0.0.1', port: 9187 });
    assert.deepEqual(parseListen('0.0.0.0:9187'), { host: '0.0.0.0', port: 9187 });
    assert.deepEqual(parseListen('[::1]:9187'), { host: '::1', port: 9187 });
    assert.deepEqual(parseListen(':9187'), { host: '', port: 9187 });
    assert.deepEqual(parseListen('localhost:0'), { host: 'localhost', port: 0 });
    assert.equal(parseListen('none'), 'none');
  });

  test('garbage is refused with a USAGE error naming --listen and saying what to give', () => {
    for (const [value, why] of [
      ['9187', 'no port'],
      ['127.0.0.1', 'no port'],
      ['127.0.0.1:', 'is not a port'],
      ['127.0.0.1:65536', 'is not a port'],
      ['127.0.0.1:http', 'is not a port'],
      ['::1:9187', 'an IPv6 address goes in brackets'],
      ['[::g]:9187', 'is not an IPv6 address'],
      ['bad host:9187', 'is not a host name or IP address'],
      ['', 'no port'],
    ] as const)
      assert.throws(
        () => parseListen(value),
        (err: unknown) => {
          assert.ok(isPgbackmanError(err, 'USAGE'), value);
          assert.ok(err.message.startsWith(`--listen ${JSON.stringify(value)}: `), err.message);
          assert.ok(err.message.includes(why), `${value}: ${err.message}`);
          assert.match(err.message, /give HOST:PORT/);
          return true;
        },
      );
  });
});
