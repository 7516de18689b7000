// The agent benchmarks' agent: the `pgbackman agent` command itself (runAgent from dist/, after the CLI's own
// module, so the process loads what the real one does: plain JS, no TypeScript loader in its memory), with
// a --watch directory source, the HTTP listener on a free port, and a no-op executor that logs when it
// starts (benchmark only: no pg_dump, no catalogue record). JSON log lines on stdout.
//
//   node bench/agent-driver.mjs --server NAME [--catalogue URL] --watch DIR --state-dir DIR
// Without --catalogue, the embedded one in the state directory, served to other processes as the agent does.
import { parseArgs } from 'node:util';

// As bin/pgbackman.js does for `agent`: before the CLI's modules load.
(await import('../dist/agent/memory-policy.js')).applyAgentMemoryPolicy();
await import('../dist/cli/main.js');
const { runAgent } = await import('../dist/cli/commands/agent.js');
const { createLogger } = await import('../dist/observability/logger.js');

const { values } = parseArgs({
  options: {
    server: { type: 'string' },
    catalogue: { type: 'string' },
    watch: { type: 'string' },
    'state-dir': { type: 'string' },
    // Milliseconds between whole retention sweeps, 0 for none (and none after each dump), as --retention-interval.
    'retention-interval': { type: 'string', default: '3600000' },
  },
});
const { server, catalogue, watch } = values;
if (server === undefined || watch === undefined)
  throw new Error('usage: agent-driver.mjs --server NAME [--catalogue URL] --watch DIR --state-dir DIR');

// The executor's own lines; the agent writes its lines to stdout too, as JSON (stdout is not a terminal).
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

logger.info({ event: 'driver_starting', at: now() }, 'driver starting');
process.exitCode = await runAgent(
  {
    server,
    watch,
    branch: 'main',
    path: '.',
    // Once an hour: the benchmark changes the catalogue with `pgbackman apply`, never this directory.
    intervalMs: 3_600_000,
    graceMs: 10_000,
    retentionIntervalMs: Number(values['retention-interval']),
    allowVerifyProbes: false,
    apply: true,
    listen: '127.0.0.1:0',
    stateDir: values['state-dir'] ?? '.pgbackman-bench',
    catalogue,
    secretsDir: undefined,
    logLevel: 'info',
  },
  'bench',
  { out: process.stdout, err: process.stderr, color: false },
  noopExecutor,
);
