import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * An HTTP proxy in front of a test server (s3rver) that can hold requests: one whose path matches `hold`
 * is read but never answered, as a store that stalls mid-upload would, until `release` or `stop`.
 */
export interface HoldingProxy {
  readonly endpoint: string;
  /** Requests whose path (decoded, without the query) matches are held from now on; null forwards every one again. */
  hold(path: RegExp | ((path: string) => boolean) | null): void;
  /** Resolves with its path once a request matching the current hold has arrived (and is held). */
  held(): Promise<string>;
  /** Answers every held request 503 and forwards from now on. */
  release(): void;
  stop(): Promise<void>;
}

export async function startHoldingProxy(target: string): Promise<HoldingProxy> {
  const to = new URL(target);
  let pattern: ((path: string) => boolean) | null = null;
  const holding: { res: ServerResponse; path: string }[] = [];
  let waiters: ((path: string) => void)[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? '/';
    const plain = decodeURIComponent(path.split('?')[0] ?? '');
    if (pattern?.(plain)) {
      req.resume(); // its body is taken, as a slow store takes it, and no answer comes
      holding.push({ res, path: plain });
      for (const w of waiters) w(plain);
      waiters = [];
      return;
    }
    const out = request(
      { host: to.hostname, port: to.port, method: req.method, path, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const answerHeld = () => {
    for (const { res } of holding.splice(0)) res.writeHead(503).end();
  };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    hold(path) {
      pattern = path === null ? null : typeof path === 'function' ? path : (p) => path.test(p);
    },
    held: () =>
      new Promise((resolve) => {
        const first = holding[0];
        if (first !== undefined) resolve(first.path);
        else waiters.push(resolve);
      }),
    release() {
      pattern = null;
      answerHeld();
    },
    async stop() {
      answerHeld();
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
