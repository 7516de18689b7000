import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PgbackmanError } from '../errors.ts';
import { authorized } from '../status/page-auth.ts';
import type { Logger } from './logger.ts';
import { formatListen, parseListen } from './parse-listen.ts';

export { type ListenAddress, parseListen } from './parse-listen.ts';

export interface HealthCheck {
  readonly ready: boolean;
  /** What a person reads in /readyz: why it is (not) ready. */
  readonly message: string;
}

/** What the agent knows of itself; /readyz is ready when every check is. */
export interface HealthReport {
  /** Reachable, or down while runs are spooled (both ready: `mode` says which); unavailable is not ready. */
  readonly catalogue: { readonly mode: 'reachable' | 'spooling' | 'unavailable'; readonly message: string };
  /** The manifests' source was fetched at least once. */
  readonly source: HealthCheck;
  /** The schedule was built from them. */
  readonly schedule: HealthCheck;
}

export interface MetricsSource {
  render(): Promise<{ contentType: string; body: string }>;
}

/** The read-only status page at `/`, and the token it asks for (none: anyone who reaches the listener). */
export interface PageSource {
  /** The page for a request's query (`?page=N`). */
  render(query: URLSearchParams): Promise<{ readonly status: number; readonly html: string }>;
  readonly token?: string | undefined;
}

export interface HttpListenerOptions {
  /** `--listen`'s value, `HOST:PORT` (parseListen); the caller handles `none`. */
  readonly listen: string;
  readonly metrics: MetricsSource;
  readonly page?: PageSource;
  readonly health: () => HealthReport | Promise<HealthReport>;
  readonly logger: Logger;
}

export interface HttpListener {
  /** Where it listens, `host:port` with the port actually bound. */
  readonly address: string;
  /** Stops listening and closes every connection, keep-alive ones too. */
  close(): Promise<void>;
}

const TEXT = 'text/plain; charset=utf-8';

/** Serves /healthz, /readyz and /metrics until closed; a bind failure is a PgbackmanError naming --listen. */
export async function startHttpListener(options: HttpListenerOptions): Promise<HttpListener> {
  const at = parseListen(options.listen);
  if (at === 'none') throw new PgbackmanError('USAGE', '--listen none: there is no listener to start');
  const { logger } = options;
  const server = createServer((req, res) => {
    handle(req, res, options).catch((err: unknown) => {
      logger.error({ err, path: req.url }, 'http listener: the request failed');
      if (!res.headersSent) send(req, res, 500, TEXT, 'internal error\n');
      else res.destroy();
    });
  });
  // A stalled client cannot hold a socket for long: probes and scrapes are small and quick.
  server.headersTimeout = 5_000;
  server.requestTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(bindError(options.listen, err)));
    server.listen(at.host === '' ? { port: at.port } : { port: at.port, host: at.host }, () => resolve());
  });
  server.removeAllListeners('error');
  server.on('error', (err) => logger.error({ err }, 'http listener: server error'));
  const bound = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    address: formatListen({ host: bound.address, port: bound.port }),
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  options: HttpListenerOptions,
): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    send(req, res, 405, TEXT, 'method not allowed\n', { Allow: 'GET, HEAD' });
    return;
  }
  switch ((req.url ?? '/').split('?')[0]) {
    // Liveness is answering at all: a blocked event loop cannot answer, and the probe's timeout sees that.
    case '/healthz':
      send(req, res, 200, TEXT, 'ok\n');
      return;
    case '/readyz': {
      const { ready, body } = readiness(await options.health());
      send(req, res, ready ? 200 : 503, 'application/json', `${JSON.stringify(body)}\n`);
      return;
    }
    case '/metrics': {
      const { contentType, body } = await options.metrics.render();
      send(req, res, 200, contentType, body);
      return;
    }
    case '/':
      if (options.page !== undefined) {
        await page(req, res, options.page, new URLSearchParams((req.url ?? '').split('?')[1] ?? ''));
        return;
      }
      send(req, res, 404, TEXT, 'not found: try /healthz, /readyz or /metrics\n');
      return;
    default:
      send(
        req,
        res,
        404,
        TEXT,
        `not found: try ${options.page === undefined ? '' : '/, '}/healthz, /readyz or /metrics\n`,
      );
  }
}

/** What the page's responses say to a browser: no script, no framing, no referrer, nothing kept. */
const PAGE_HEADERS = {
  'Content-Security-Policy':
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
};

async function page(
  req: IncomingMessage,
  res: ServerResponse,
  source: PageSource,
  query: URLSearchParams,
): Promise<void> {
  if (!authorized(req.headers.authorization, source.token)) {
    send(
      req,
      res,
      401,
      TEXT,
      'the status page needs the token the agent was started with (PGBACKMAN_STATUS_TOKEN)\n',
      {
        'WWW-Authenticate': 'Basic realm="pgbackman", charset="UTF-8"',
      },
    );
    return;
  }
  const { status, html } = await source.render(query);
  send(req, res, status, 'text/html; charset=utf-8', html, PAGE_HEADERS);
}

function readiness(report: HealthReport): { ready: boolean; body: object } {
  const { catalogue, source, schedule } = report;
  const checks = {
    catalogue: { ready: catalogue.mode !== 'unavailable', mode: catalogue.mode, message: catalogue.message },
    source: { ready: source.ready, message: source.message },
    schedule: { ready: schedule.ready, message: schedule.message },
  };
  const ready = Object.values(checks).every((c) => c.ready);
  return { ready, body: { ready, checks } };
}

function send(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

const BIND_ERRORS: Record<string, string> = {
  EADDRINUSE: 'address already in use',
  EACCES: 'permission denied (a port below 1024 needs privileges)',
  EADDRNOTAVAIL: 'no such address on this host',
  ENOTFOUND: 'unknown host',
  EAI_AGAIN: 'the host name could not be resolved',
  EAFNOSUPPORT: 'this address family is not supported here',
};

function bindError(listen: string, err: NodeJS.ErrnoException): PgbackmanError {
  const why = (err.code !== undefined && BIND_ERRORS[err.code]) || err.message;
  return new PgbackmanError('USAGE', `--listen ${listen}: ${why}`, { cause: err });
}
