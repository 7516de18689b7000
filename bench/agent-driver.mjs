// The agent benchmark's agent: `Agent` from dist/ (plain JS, so no TypeScript loader weighs on its memory),
// a --watch directory source and a no-op executor that logs when it starts; JSON log lines on stdout.
//
//   node bench/agent-driver.mjs --server NAME --catalogue URL --watch DIR --state-dir DIR
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Agent } from '../dist/agent/agent.js';
import { createLogger } from '../dist/observability/logger.js';
import { dirSource } from '../dist/source/dir-source.js';

const { values } = parseArgs({
  options: {
    server: { type: 'string' },
    catalogue: { type: 'string' },
    watch: { type: 'string' },
    'state-dir': { type: 'string' },
  },
});
const { server, catalogue, watch } = values;
if (server === undefined || catalogue === undefined || watch === undefined)
  throw new Error('usage: agent-driver.mjs --server NAME --catalogue URL --watch DIR --state-dir DIR');
const stateDir = resolve(values['state-dir'] ?? '.pgbackman-bench');
mkdirSync(stateDir, { recursive: true });
process.env.PGBACKMAN_CACHE ||= join(stateDir, 'cache');

const logger = createLogger({ format: 'json', stream: process.stdout, level: 'info' });
/** Sub-millisecond wall clock, so start delays are not rounded to the log's milliseconds. */
const now = () => performance.timeOrigin + performance.now();

/** Benchmark only: no pg_dump, no catalogue record; says when the agent started it. */
async function noopExecutor(job) {
  const at = now();
  logger.info({ event: 'noop_started', key: `${job.kind}/${job.name}`, at }, 'no-op dump');
  return {
    id: '00000000-0000-0000-0000-000000000000',
    status: 'SUCCEEDED',
    dir: null,
    bytes: 0,
    durationMs: 0,
    settings: {},
    error: null,
    errorCode: null,
    spoolReason: undefined,
    interruptedBy: undefined,
    setAside: [],
  };
}

const root = resolve(watch);
const agent = new Agent({
  server,
  location: catalogue,
  source: dirSource(root),
  sourceRoot: root,
  // Once an hour: the benchmark changes the catalogue with `pgbackman apply`, never this directory.
  intervalMs: 3_600_000,
  graceMs: 10_000,
  apply: true,
  secretsDir: join(stateDir, 'secrets'),
  version: 'bench',
  logger,
  executor: noopExecutor,
  observe: (e) => {
    if (e.kind === 'scheduled') logger.info({ event: 'observed_scheduled', at: now(), entries: e.entries });
  },
});
process.once('SIGTERM', () => {
  void agent.stop('SIGTERM').then(() => process.exit(0));
});
logger.info({ event: 'driver_starting', at: now() }, 'driver starting');
await agent.start();
logger.info({ event: 'driver_started', at: now() }, 'agent.start() returned');
