import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Agent, type Executor } from '../../agent/agent.ts';
import type { AlertSettings } from '../../agent/agent-alerts.ts';
import { AgentObserver } from '../../agent/agent-observer.ts';
import { holdCatalogue } from '../../agent/hold-catalogue.ts';
import { applyAgentMemoryPolicy } from '../../agent/memory-policy.ts';
import { DEFAULT_SECRETS_DIR } from '../../backup/dump/read-password-file.ts';
import { runDump } from '../../backup/run-dump.ts';
import { PgbackmanError } from '../../errors.ts';
import { parseListen, startHttpListener } from '../../observability/http-listener.ts';
import { agentLogFormat, createLogger } from '../../observability/logger.ts';
import type { Source } from '../../source/source.ts';
import { StatusPage } from '../../status/status-page.ts';
import type { AllowedDestination } from '../../storage/allowed-destinations.ts';
import { ExitCode } from '../exit-codes.ts';
import type { Output } from '../output.ts';

export interface AgentFlags {
  /** age identities for restores and restore tests of encrypted dumps. */
  readonly identities?: readonly string[];
  readonly server: string;
  readonly repo?: string;
  readonly branch: string;
  readonly path: string;
  readonly watch?: string;
  readonly intervalMs: number;
  readonly graceMs: number;
  readonly retentionIntervalMs: number;
  readonly copyRetryIntervalMs: number;
  readonly allowVerifyProbes: boolean;
  readonly apply: boolean;
  readonly listen: string;
  readonly stateDir: string;
  readonly catalogue: string | undefined;
  readonly secretsDir: string | undefined;
  readonly allowedDestinations: readonly AllowedDestination[];
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** Where the manifests' notify messages go: the operator's channels. */
  readonly alerts?: AlertSettings;
  /** When a definition without a success is OVERDUE: its due time plus this. */
  readonly overdueGraceMs?: number;
}

/**
 * `pgbackman agent`: runs until SIGTERM/SIGINT (clean stop, exit 0); SIGHUP reconciles now. The executor is
 * runDump; the agent benchmark passes a no-op one, so it measures this very command without pg_dump.
 */
export async function runAgent(
  flags: AgentFlags,
  version: string,
  output: Output,
  executor: Executor = runDump,
): Promise<ExitCode> {
  if ((flags.repo === undefined) === (flags.watch === undefined))
    throw new PgbackmanError('USAGE', 'agent needs exactly one source: --repo URL (git) or --watch DIR');
  applyAgentMemoryPolicy();
  const stateDir = resolve(flags.stateDir);
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const location = flags.catalogue ?? join(stateDir, 'catalogue');
  // Runs cache what they read in the state directory, like everything else the agent keeps.
  process.env.PGBACKMAN_CACHE ||= join(stateDir, 'cache');
  // Only the source in use is loaded: simple-git and chokidar each cost a long-lived agent memory.
  const source: Source =
    flags.repo !== undefined
      ? (await import('../../source/git-source.ts')).gitSource({
          url: flags.repo,
          branch: flags.branch,
          path: flags.path,
          checkout: join(stateDir, 'source'),
        })
      : (await import('../../source/dir-source.ts')).dirSource(flags.watch as string);
  const sourceRoot = flags.repo !== undefined ? join(stateDir, 'source') : resolve(flags.watch as string);
  // JSON lines for log collectors; readable lines when a person watches the terminal.
  const logger = createLogger({
    format: agentLogFormat(output.out),
    stream: output.out,
    level: flags.logLevel,
  });
  const observer = new AgentObserver(version);
  const agent = new Agent({
    server: flags.server,
    location,
    source,
    sourceRoot,
    intervalMs: flags.intervalMs,
    graceMs: flags.graceMs,
    retentionIntervalMs: flags.retentionIntervalMs,
    copyRetryIntervalMs: flags.copyRetryIntervalMs,
    allowVerifyProbes: flags.allowVerifyProbes,
    apply: flags.apply,
    secretsDir: flags.secretsDir ?? (process.env.PGBACKMAN_SECRETS_DIR || DEFAULT_SECRETS_DIR),
    allowedDestinations: flags.allowedDestinations,
    identities: flags.identities ?? [],
    scheduleCache: join(stateDir, 'cache', 'schedule.json'),
    version,
    logger,
    executor,
    observe: observer.observe,
    ...(flags.alerts === undefined ? {} : { alerts: flags.alerts, alertSpool: join(stateDir, 'alerts') }),
    ...(flags.overdueGraceMs === undefined ? {} : { overdueGraceMs: flags.overdueGraceMs }),
  });
  // Bound before anything starts, so a port in use is a usage error, not a half-started agent.
  const listen = parseListen(flags.listen);
  const token = process.env.PGBACKMAN_STATUS_TOKEN || undefined;
  const statusPage = new StatusPage({
    server: flags.server,
    version,
    use: (fn) => agent.readCatalogue(fn),
    env: process.env,
    secretsDir: flags.secretsDir ?? (process.env.PGBACKMAN_SECRETS_DIR || DEFAULT_SECRETS_DIR),
  });
  const http =
    listen === 'none'
      ? undefined
      : await startHttpListener({
          listen: flags.listen,
          metrics: observer.metrics,
          health: () => observer.health(agent),
          logger,
          page: { render: (query) => statusPage.render(query), token },
        });
  if (http !== undefined) {
    logger.info(
      { event: 'listening', address: http.address },
      `serving the status page at / and /healthz, /readyz and /metrics on http://${http.address}`,
    );
    if (listen !== 'none' && !isLoopback(listen.host) && token === undefined)
      logger.warn(
        { event: 'status_page_open', address: http.address },
        `the status page on ${http.address} is open to whoever reaches it: set PGBACKMAN_STATUS_TOKEN to ask for a token`,
      );
  }
  let signals = 0;
  const stopping = new AbortController();
  let stopped: Promise<void> | undefined;
  const done = new Promise<void>((resolveDone) => {
    const onStop = (signal: NodeJS.Signals) => {
      signals++;
      stopping.abort(signal);
      stopped = agent.stop(signal, signals > 1).then(resolveDone, resolveDone);
    };
    process.on('SIGTERM', onStop);
    process.on('SIGINT', onStop);
    process.on('SIGHUP', () => agent.reconcileNow('SIGHUP'));
  });
  let held: Awaited<ReturnType<typeof holdCatalogue>>;
  try {
    held = await holdCatalogue(location, logger, stopping.signal);
    // Stopped while it waited for the catalogue: nothing was started, nothing to drain.
    if (signals === 0) await agent.start();
    await done;
    await stopped;
  } finally {
    await http?.close();
    await held?.close();
  }
  return ExitCode.Ok;
}

/** 127.0.0.0/8, ::1 and localhost: only this host reaches the listener. */
function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
