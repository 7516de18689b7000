import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { rootDirectoryOf } from '../backup/files/layout.ts';
import type { DumpJob, DumpResult, RunDumpOptions } from '../backup/run-dump.ts';
import { type Condition, heartbeat, pollAgent, registerAgent } from '../catalogue/agents.ts';
import type { CatalogueSession } from '../catalogue/catalogue-session.ts';
import type { DumpCopy } from '../catalogue/dump-copies.ts';
import { requireCurrentSchema } from '../catalogue/migrate.ts';
import { safeLocation } from '../catalogue/open-catalogue.ts';
import { unreachableReason } from '../catalogue/unreachable.ts';
import { messageOf } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import { DumpQueue, type QueueItem } from '../schedule/dump-queue.ts';
import { type ScheduleEntry, Scheduler } from '../schedule/scheduler.ts';
import { redactCredentials, type Source } from '../source/source.ts';
import type { AllowedDestination } from '../storage/allowed-destinations.ts';
import { processAlive } from '../system/process-alive.ts';
import { AgentAlerts, type AlertSettings } from './agent-alerts.ts';
import { CatalogueLink } from './catalogue-link.ts';
import { conditionsOf, type ReconcileOutcome, stoppedConditions } from './conditions.ts';
import { startListening } from './listen.ts';
import { type RestoreEnd, type RestoreOutcome, RestoreRunner } from './restore-runner.ts';
import { type RestoreTestEnd, RestoreVerifier } from './restore-verifier.ts';

const VERIFY_CHECK_MS = 60_000;

import type { Queryable } from '../catalogue/catalogue-db.ts';
import { listObjects } from '../catalogue/list-objects.ts';
import type { Notify } from '../manifest/generated/manifest-types.ts';
import type { PlannedDump } from '../retention/retention-plan.ts';
import { DEFAULT_GRACE_MS } from '../schedule/overdue.ts';
import { CopyRetrier } from './copy-retrier.ts';
import { checkDisk, type DiskLowNotice } from './disk-check.ts';
import { newlyOverdue, type OverdueNotice, overdueNotice, serverHealth } from './overdue-check.ts';
import { RetentionSweeper, type SweepReport } from './retention-sweeper.ts';
import { RevisionReconciler } from './revision-reconciler.ts';
import { runJob } from './run-job.ts';
import { loadSchedule, saveSchedule } from './schedule-cache.ts';
import { readServerWork, WorkCache } from './server-jobs.ts';
import { settleOnStart } from './start-up.ts';

export type Executor = (
  job: DumpJob,
  session: CatalogueSession,
  options: RunDumpOptions,
) => Promise<DumpResult>;

export interface AgentOptions {
  readonly server: string;
  readonly location: string;
  readonly source: Source;
  /** The repository's (or watched directory's) root, so messages name files as `validate` there would. */
  readonly sourceRoot: string;
  readonly intervalMs: number;
  readonly graceMs: number;
  readonly apply: boolean;
  readonly secretsDir: string;
  /** Where the operator lets storage copies go (--allow-destination). */
  readonly allowedDestinations?: readonly AllowedDestination[];
  /** age identities: the agent's restores and restore tests decrypt encrypted dumps with them. */
  readonly identities?: readonly string[];
  /** Where the agent keeps its schedule for a start while the catalogue is down (the job cache). */
  readonly scheduleCache?: string;
  readonly version: string;
  readonly logger: Logger;
  readonly executor: Executor;
  readonly heartbeatMs?: number;
  /** How often the catalogue is asked for a new serial or a reconcile request when it cannot NOTIFY. */
  readonly pollMs?: number;
  /** Run spec.verify's probes (SQL from the manifests) in restore tests; off unless the operator says so. */
  readonly allowVerifyProbes?: boolean;
  /** How often the agent sweeps its server's dumps by retention, besides after each successful run; 0: never. */
  readonly retentionIntervalMs?: number;
  /** How often failed copies are tried again; 0: never. Default 10 minutes. */
  readonly copyRetryIntervalMs?: number;
  /** Called after every change of what the agent reports: for metrics and /readyz. */
  readonly observe?: (event: AgentEvent) => void;
  /** Where messages about runs go (the manifests' notify): the operator's channels; none when absent. */
  readonly alerts?: AlertSettings;
  /** Where run ends wait until their messages are queued in the catalogue (memory when absent). */
  readonly alertSpool?: string;
  /** How long after a due time a success may come before the definition is OVERDUE (default 10 min). */
  readonly overdueGraceMs?: number;
}

export type AgentEvent =
  | {
      readonly kind: 'reconciled';
      readonly outcome: ReconcileOutcome;
      readonly conditions: readonly Condition[];
    }
  | { readonly kind: 'scheduled'; readonly entries: number; readonly names: readonly string[] }
  | { readonly kind: 'run-started'; readonly job: DumpJob }
  | { readonly kind: 'run-finished'; readonly job: DumpJob; readonly result: DumpResult }
  /** The run could not even be recorded (its error is logged): still a failed run for the metrics. */
  | { readonly kind: 'run-crashed'; readonly job: DumpJob; readonly durationMs: number }
  /** Scheduled runs that no agent took while this one was down, recorded as one MISSED row. */
  | {
      readonly kind: 'runs-missed';
      readonly job: DumpJob;
      readonly runId: string;
      readonly missed: number;
      readonly reason: string;
    }
  /** Due while its previous run was still running or waiting: this one is not taken. */
  | { readonly kind: 'run-skipped'; readonly job: DumpJob }
  /** A definition of this server with no success by its due time plus grace (said once per due time). */
  | { readonly kind: 'overdue'; readonly notice: OverdueNotice }
  /** An alert message sent, to be tried again, or given up. */
  | {
      readonly kind: 'alert';
      readonly channel: string;
      readonly event: string;
      readonly outcome: 'sent' | 'retry' | 'failed';
    }
  /** A dump retention should delete and may not (said once per dump while the agent runs). */
  | {
      readonly kind: 'retention-blocked';
      readonly dump: PlannedDump;
      readonly why: string;
      readonly serverNotify: Notify | null;
    }
  /** The root directory's free space fell below twice the server's diskReserve (said once per fall). */
  | { readonly kind: 'disk-low'; readonly notice: DiskLowNotice }
  | { readonly kind: 'queue'; readonly depth: number; readonly running: number }
  | { readonly kind: 'catalogue'; readonly up: boolean }
  | ({ readonly kind: 'retention' } & SweepReport)
  /** Copies made (or failed) again by the copy pass. */
  | { readonly kind: 'copies'; readonly copies: readonly DumpCopy[] }
  | { readonly kind: 'restore'; readonly outcome: RestoreOutcome; readonly failed?: RestoreEnd }
  | {
      readonly kind: 'restore-test';
      readonly definition: string;
      readonly verifiedAt: Date | null;
      readonly status: 'VERIFIED' | 'VERIFY_FAILED' | undefined;
      /** The test that ran, when one did. */
      readonly test?: RestoreTestEnd;
    };

/** How often the root directory's free space is looked at (for disk_low). */
const DISK_CHECK_MS = 60_000;

/** In the shutdown, a catalogue statement that waited this long is given up (its connection dropped). */
const HUNG_MS = 10_000;

/** The long-lived loop of one backup server: source → reconcile → schedule → execute, until stopped. */
export class Agent {
  readonly #o: AgentOptions;
  readonly #host = hostname();
  readonly #log: Logger;
  readonly #link: CatalogueLink;
  readonly #revisions: RevisionReconciler;
  readonly #scheduler: Scheduler<DumpJob>;
  readonly #queue: DumpQueue<DumpJob>;
  readonly #running = new Map<string, AbortController>();
  #stopping = false;
  #wake: (() => void) | undefined;
  #wanted = false;
  #forced = false;
  #conditions: Condition[] = [];
  #serial = -1;
  #pendingToken: string | null = null;
  #scheduled = false;
  #serverKnown: boolean | undefined;
  #refreshFailing = false;
  readonly #workCache = new WorkCache();
  /** The expansion warnings last said (joined), so each is said once, not every interval. */
  #warned = '';
  readonly #sweeper: RetentionSweeper;
  readonly #copier: CopyRetrier;
  readonly #restorer: RestoreRunner;
  readonly #verifier: RestoreVerifier;
  #jobs: readonly DumpJob[] = [];
  #sweptOnce = false;
  #stops: (() => Promise<void>)[] = [];
  #loop: Promise<void> | undefined;
  readonly #alerts: AgentAlerts | undefined;
  /** The OVERDUE definitions already said, and the due time each was said for. */
  #overdueSaid = new Map<string, string>();
  /** The dumps whose blocked deletion was said. */
  readonly #blockedSaid = new Set<string>();
  /** Whether the root directory's free space was below the disk_low threshold at the last look. */
  #diskLow = false;

  constructor(given: AgentOptions) {
    this.#log = given.logger.child({ server: given.server });
    this.#link = new CatalogueLink(given.location);
    const alerts =
      given.alerts === undefined
        ? undefined
        : new AgentAlerts({
            server: given.server,
            use: (fn) => this.#link.use(fn),
            log: this.#log,
            secretsDir: given.secretsDir,
            settings: given.alerts,
            jobs: () => this.#jobs,
            report: (r) => given.observe?.({ kind: 'alert', ...r }),
            ...(given.alertSpool === undefined ? {} : { spoolDir: given.alertSpool }),
          });
    this.#alerts = alerts;
    const options: AgentOptions =
      alerts === undefined
        ? given
        : {
            ...given,
            observe: (event) => {
              given.observe?.(event);
              alerts.observe(event);
            },
          };
    this.#o = options;
    this.#revisions = new RevisionReconciler({
      source: options.source,
      sourceRoot: options.sourceRoot,
      apply: options.apply,
      appliedBy: `agent ${options.server}@${this.#host}`,
      secretsDir: options.secretsDir,
    });
    this.#scheduler = new Scheduler((entry) => this.#due(entry), this.#log);
    this.#queue = new DumpQueue({ server: 1, node: () => 1 }, (item) => this.#execute(item));
    this.#sweeper = new RetentionSweeper({
      server: options.server,
      link: this.#link,
      log: this.#log,
      copies: {
        allowed: options.allowedDestinations ?? [],
        env: process.env,
        secretsDir: options.secretsDir,
      },
      report: (r) => options.observe?.({ kind: 'retention', ...r }),
      blocked: ({ dump, why }) => {
        // Once per dump while this process runs: every sweep would say it again.
        if (this.#blockedSaid.has(dump.id)) return;
        if (this.#blockedSaid.size >= 10_000) this.#blockedSaid.clear();
        this.#blockedSaid.add(dump.id);
        const serverNotify = this.#jobs[0]?.server.spec.notify ?? null;
        options.observe?.({ kind: 'retention-blocked', dump, why, serverNotify });
      },
    });
    this.#copier = new CopyRetrier({
      server: options.server,
      link: this.#link,
      log: this.#log,
      allowed: options.allowedDestinations ?? [],
      secretsDir: options.secretsDir,
      report: (copies) => options.observe?.({ kind: 'copies', copies }),
    });
    this.#restorer = new RestoreRunner({
      server: options.server,
      link: this.#link,
      log: this.#log,
      secretsDir: options.secretsDir,
      identities: options.identities ?? [],
      allowed: options.allowedDestinations ?? [],
      report: (outcome, failed) =>
        options.observe?.({ kind: 'restore', outcome, ...(failed === undefined ? {} : { failed }) }),
    });
    this.#verifier = new RestoreVerifier({
      server: options.server,
      link: this.#link,
      log: this.#log,
      secretsDir: options.secretsDir,
      identities: options.identities ?? [],
      allowed: options.allowedDestinations ?? [],
      allowProbes: options.allowVerifyProbes === true,
      jobs: () => this.#jobs,
      report: (definition, verifiedAt, status, test) =>
        options.observe?.({
          kind: 'restore-test',
          definition,
          verifiedAt,
          status,
          ...(test === undefined ? {} : { test }),
        }),
    });
  }

  /** Each definition that became OVERDUE since the last look, told to the observers once per due time. */
  async #checkOverdue(grace: number): Promise<void> {
    if (!this.#link.up) return;
    const health = await this.#link
      .use((db) => serverHealth(db, this.#o.server, new Date(), grace))
      .catch((err: unknown) => {
        this.#log.debug({ event: 'overdue_check_failed', err: messageOf(err) }, messageOf(err));
        return undefined;
      });
    if (health === undefined) return;
    const { news, said } = newlyOverdue(health.entries, this.#overdueSaid);
    this.#overdueSaid = said;
    for (const e of news) {
      const notice = overdueNotice(e, health.notify(e));
      this.#log.warn(
        { event: 'overdue', definition: e.name, dueBy: e.dueBy },
        `${e.kind}/${e.name} is OVERDUE: no successful dump by ${e.dueBy}`,
      );
      this.#o.observe?.({ kind: 'overdue', notice });
    }
  }

  /** The root directory's free space: disk_low when it has just fallen below twice the reserve. */
  async #checkDisk(): Promise<void> {
    try {
      const [server] = await this.#link.use((db) =>
        listObjects(db, 'BackupServer', { name: this.#o.server }),
      );
      if (server === undefined) return;
      const { low, notice } = await checkDisk(server.name, server.spec, this.#diskLow);
      this.#diskLow = low;
      if (notice === undefined) return;
      this.#log.warn(
        { event: 'disk_low', root: notice.root, free: notice.freeBytes, threshold: notice.thresholdBytes },
        `little free space under ${notice.root}: ${notice.freeBytes} bytes, below ${notice.thresholdBytes} (twice the diskReserve ${notice.reserve})`,
      );
      this.#o.observe?.({ kind: 'disk-low', notice });
    } catch (err) {
      this.#log.debug({ event: 'disk_check_failed', err: messageOf(err) }, messageOf(err));
    }
  }

  /** A read of the catalogue in its turn on the agent's connection (the status page). */
  readCatalogue<T>(fn: (q: Queryable) => Promise<T>): Promise<T> {
    return this.#link.use(fn);
  }

  /** What /readyz reports. */
  get health() {
    return {
      catalogue: this.#link.up,
      source: this.#revisions.fetched,
      schedule: this.#scheduled,
      conditions: this.#conditions,
      lastApplied: this.#revisions.lastApplied,
    };
  }

  nextRun(key: string): Date | null {
    return this.#scheduler.nextRun(key);
  }

  async start(): Promise<void> {
    this.#log.info(
      { event: 'agent_starting', source: this.#o.source.description, apply: this.#o.apply },
      `agent for ${this.#o.server} starting: source ${this.#o.source.description}, catalogue ${redactCredentials(this.#o.location)}${this.#o.apply ? '' : ' (--no-apply)'}`,
    );
    let downSince: Date | null = null;
    try {
      downSince = await this.#link.use(async (db) => {
        await requireCurrentSchema(db);
        const r = await registerAgent(
          db,
          {
            server: this.#o.server,
            host: this.#host,
            pid: process.pid,
            version: this.#o.version,
            intervalMs: this.#o.heartbeatMs ?? 10_000,
            source: this.#o.source.description,
          },
          processAlive,
        );
        return r.previousHeartbeat;
      });
    } catch (err) {
      if (unreachableReason(err) === undefined) {
        // Nothing else has started: the connection is all there is to let go, so the process can exit.
        await this.#link.close().catch(() => undefined);
        throw err;
      }
      this.#log.warn({ event: 'catalogue_unreachable' }, `${messageOf(err)}; the agent goes on and retries`);
    }
    // The catalogue's schedule first: dumps go on even when the source cannot be fetched.
    await this.#refreshSchedule(downSince ?? undefined);
    const watch = this.#o.source.watch;
    if (watch !== undefined)
      this.#stops.push(await watch(() => this.reconcileNow('the watched directory changed')));
    const listen = await startListening(this.#o.location, this.#o.server, {
      onApplied: () => void this.#refreshSchedule(),
      onReconcileRequest: () => void this.#beat(),
      log: this.#log,
    });
    this.#stops.push(() => listen.stop());
    this.#loop = this.#runLoop();
    this.#every(this.#o.heartbeatMs ?? 10_000, () => this.#beat());
    // The embedded catalogue cannot NOTIFY: it is asked, cheaply, for a new serial and for reconcile requests.
    if (!listen.listening) this.#every(this.#o.pollMs ?? 1_000, () => this.#poll());
    const sweepMs = this.#o.retentionIntervalMs ?? 3_600_000;
    if (sweepMs > 0) this.#every(sweepMs, async () => this.#sweeper.request());
    const copyMs = this.#o.copyRetryIntervalMs ?? 600_000;
    if (copyMs > 0) this.#every(copyMs, async () => this.#copier.request());
    // Restore tests fall due with time, not only with changes: looked at every minute.
    this.#every(VERIFY_CHECK_MS, async () => this.#verifier.request());
    // Messages queued by another agent's run of this server, or waiting for a retry.
    const alerts = this.#alerts;
    if (alerts !== undefined) {
      alerts.deliver();
      this.#every(alerts.pollMs, async () => alerts.deliver());
      // Overdue is a state, not a run's end: looked for as often as the grace, at least every minute.
      const grace = this.#o.overdueGraceMs ?? DEFAULT_GRACE_MS;
      this.#every(Math.min(60_000, Math.max(1_000, grace)), () => this.#checkOverdue(grace));
      void this.#checkDisk();
      this.#every(DISK_CHECK_MS, () => this.#checkDisk());
    }
  }

  /** SIGHUP, a reconcile request, a change in the watched directory: fetch and reconcile now. */
  reconcileNow(why: string): void {
    this.#log.info({ event: 'reconcile_requested', why }, `reconciling now: ${why}`);
    this.#wanted = true;
    // Asked for: a revision refused before is tried again (the catalogue, not the revision, may have changed).
    this.#forced = true;
    this.#wake?.();
  }

  /**
   * Stops starting dumps; running ones get `graceMs` to finish, then are interrupted and recorded FAILED.
   * `now` (a second signal) interrupts them at once; they are still recorded.
   */
  async stop(reason: string, now = false): Promise<void> {
    // A catalogue that stopped answering must not hold the shutdown for a statement's whole bound (60 s each).
    const watchdog = setInterval(() => {
      const why = `the agent is stopping and the catalogue has not answered for ${HUNG_MS / 1000} s`;
      if (this.#link.giveUpIfHung(HUNG_MS, why))
        this.#log.warn({ event: 'catalogue_given_up' }, `${why}: its connection is dropped`);
    }, 1000);
    watchdog.unref();
    try {
      await this.#stopSteps(reason, now);
    } finally {
      clearInterval(watchdog);
    }
  }

  async #stopSteps(reason: string, now: boolean): Promise<void> {
    if (!this.#stopping) {
      this.#stopping = true;
      this.#scheduler.stop();
      const dropped = this.#queue.stop();
      for (const item of dropped)
        this.#log.warn(
          { event: 'run_dropped', definition: item.key },
          `${item.key} was waiting and will not start: ${reason}`,
        );
      this.#wake?.();
      for (const stop of this.#stops.splice(0)) await stop().catch(() => undefined);
      if (this.#running.size > 0 && !now) {
        this.#log.info(
          { event: 'agent_draining', running: this.#running.size, graceMs: this.#o.graceMs },
          `${reason}: waiting up to ${Math.round(this.#o.graceMs / 1000)} s for ${this.#running.size} running dump(s)`,
        );
        const graceful = await Promise.race([
          this.#queue.idle().then(() => true),
          sleep(this.#o.graceMs, false, { ref: false }),
        ]);
        if (!graceful) this.#abortAll(`the agent's shutdown (${reason}; its grace ran out)`);
      }
    }
    if (now) {
      this.#abortAll(`the agent's shutdown (${reason})`);
      this.#restorer.interrupt(`the agent's shutdown (${reason})`);
    }
    await this.#queue.idle();
    await this.#restorer.stop(now ? 0 : this.#o.graceMs);
    await this.#verifier.stop(now ? 0 : this.#o.graceMs);
    await this.#sweeper.stop();
    await this.#copier.stop();
    // The last runs' messages are queued before the catalogue is let go; sending them may wait for the next start.
    await this.#alerts?.stop();
    await this.#loop;
    // The last heartbeat says it stopped: get agents shows Stopped at once, not Ready until it turns Stale.
    this.#conditions = stoppedConditions(this.#conditions, reason, new Date());
    await this.#beat().catch(() => undefined);
    await this.#link.close().catch(() => undefined);
    this.#log.info({ event: 'agent_stopped' }, `agent for ${this.#o.server} stopped`);
  }

  #abortAll(reason: string): void {
    for (const controller of this.#running.values()) controller.abort(reason);
  }

  #every(ms: number, fn: () => Promise<void>): void {
    let busy = false;
    const timer = setInterval(() => {
      if (busy || this.#stopping) return;
      busy = true;
      fn()
        .catch(() => undefined)
        .finally(() => {
          busy = false;
        });
    }, ms);
    this.#stops.push(async () => clearInterval(timer));
  }

  async #runLoop(): Promise<void> {
    let failures = 0;
    while (!this.#stopping) {
      this.#wanted = false;
      const force = this.#forced;
      this.#forced = false;
      const token = this.#pendingToken;
      let transient = true;
      try {
        const outcome = await this.#revisions.reconcile(this.#link, force);
        transient = outcome.kind === 'source-failed' || outcome.kind === 'catalogue-failed';
        await this.#refreshSchedule();
        await this.#report(outcome, token);
        // The first whole sweep waits for the first pass, so the two never hold their memory at once.
        if (!this.#sweptOnce && (this.#o.retentionIntervalMs ?? 3_600_000) > 0) {
          this.#sweptOnce = true;
          this.#sweeper.request();
        }
      } catch (err) {
        // A bug in one pass must not end the loop that every later dump depends on: said, and retried.
        this.#log.error(
          { event: 'reconcile_crashed', err: messageOf(err) },
          `reconcile failed: ${messageOf(err)}`,
        );
      }
      failures = transient ? failures + 1 : 0;
      if (this.#stopping) break;
      if (this.#wanted) continue;
      // Failures of git or the catalogue back off exponentially, capped at the interval.
      const wait = transient ? Math.min(1000 * 2 ** (failures - 1), this.#o.intervalMs) : this.#o.intervalMs;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
  }

  async #report(outcome: ReconcileOutcome, token: string | null): Promise<void> {
    // Said when they change, not at every pass: a node down for a day is one warning, and one when it is back.
    const warnings = 'warnings' in outcome ? (outcome.warnings ?? []) : [];
    if (outcome.kind === 'applied' || outcome.kind === 'unchanged' || outcome.kind === 'observed') {
      const key = warnings.join('\n');
      if (key !== this.#warned) {
        for (const w of warnings) this.#log.warn({ event: 'expansion_warning' }, w);
        if (warnings.length === 0 && this.#warned !== '')
          this.#log.info({ event: 'expansion_warning_cleared' }, 'every policy is expanded again');
        this.#warned = key;
      }
    }
    const conditions = conditionsOf(outcome, this.#revisions.lastApplied);
    const changed = JSON.stringify(conditions) !== JSON.stringify(this.#conditions);
    this.#conditions = conditions;
    this.#o.observe?.({ kind: 'reconciled', outcome, conditions });
    if (changed || outcome.kind === 'applied') {
      const ready = conditions[0] as Condition;
      const log = ready.status === 'True' ? this.#log.info.bind(this.#log) : this.#log.error.bind(this.#log);
      log({ event: 'reconciled', outcome: outcome.kind, reason: ready.reason }, ready.message);
    }
    if (token !== null && this.#pendingToken === token) this.#pendingToken = null;
    await this.#beat(
      token ?? undefined,
      outcome.kind === 'source-failed' ? undefined : outcome.revision,
    ).catch(() => undefined);
  }

  async #beat(handled?: string, attempted?: string | null): Promise<void> {
    const r = await this.#link
      .use((db) =>
        heartbeat(db, {
          server: this.#o.server,
          host: this.#host,
          pid: process.pid,
          ...(this.#conditions.length > 0 ? { conditions: this.#conditions } : {}),
          ...(this.#revisions.lastApplied === null
            ? {}
            : { lastAppliedRevision: this.#revisions.lastApplied }),
          ...(attempted === undefined ? {} : { lastAttemptedRevision: attempted }),
          reconcileHandled: handled ?? null,
        }),
      )
      .finally(() => this.#o.observe?.({ kind: 'catalogue', up: this.#link.up }));
    if (handled === undefined) this.#takeRequest(r.reconcileRequested);
  }

  /** A reconcile request (a token `pgbackman reconcile` left on this agent's row) not taken yet: reconcile now. */
  #takeRequest(token: string | null): void {
    if (token === null || token === this.#pendingToken) return;
    this.#pendingToken = token;
    this.reconcileNow('pgbackman reconcile');
  }

  /** A cheap look at the catalogue: a new serial reschedules, a reconcile request reconciles. */
  async #poll(): Promise<void> {
    // Read only: the heartbeat keeps its own 10 s; a write a second would be 86,400 row versions a day.
    const r = await this.#link.use((db) => pollAgent(db, { server: this.#o.server, host: this.#host }));
    this.#takeRequest(r.reconcileRequested);
    if (r.serial !== this.#serial) await this.#refreshSchedule();
  }

  async #refreshSchedule(downSince?: Date): Promise<void> {
    if (this.#stopping) return;
    try {
      const work = await this.#link.use((db) => readServerWork(db, this.#o.server, this.#workCache));
      // Before the first reconcile an empty catalogue is expected; after it, a missing server is worth a warning.
      if (work.server === undefined && this.#serverKnown !== false && this.#conditions.length > 0)
        this.#log.warn(
          { event: 'server_unknown' },
          `the catalogue has no BackupServer/${this.#o.server}: nothing to schedule`,
        );
      let catchUp: ScheduleEntry<DumpJob>[] = [];
      if (!this.#scheduled)
        catchUp = await this.#link.use((db) =>
          settleOnStart(db, {
            server: this.#o.server,
            host: this.#host,
            entries: work.entries,
            downSince: downSince ?? null,
            root: rootDirectoryOf(work.server?.spec ?? {}),
            now: new Date(),
            log: this.#log,
            onMissed: (job, runId, missed, reason) =>
              this.#o.observe?.({ kind: 'runs-missed', job, runId, missed, reason }),
          }),
        );
      this.#serverKnown = work.server !== undefined;
      this.#serial = work.serial;
      this.#queue.setLimits({
        server: work.server?.spec.maxConcurrentDumps ?? 2,
        node: (name) => work.nodeLimits.get(name) ?? 1,
      });
      this.#refreshFailing = false;
      const counts = this.#scheduler.sync(work.entries);
      if (!this.#scheduled || counts.added + counts.changed + counts.removed > 0)
        this.#log.info(
          { event: 'scheduled', ...counts, entries: work.entries.length, idle: work.idle.length },
          `schedule: ${work.entries.length} dump(s) (${counts.added} added, ${counts.changed} changed, ${counts.removed} removed)${work.idle.length > 0 ? `, ${work.idle.length} not scheduled` : ''}`,
        );
      this.#scheduled = true;
      this.#o.observe?.({
        kind: 'scheduled',
        entries: work.entries.length,
        names: work.entries.map((e) => e.payload.name),
      });
      for (const entry of catchUp) this.#due(entry);
      // RestoreDefinitions and restore tests change with the catalogue too: due ones start.
      this.#jobs = work.entries.map((e) => e.payload);
      this.#restorer.request();
      // The server's diskReserve or notify may have changed with the catalogue: the disk is looked at again.
      if (this.#alerts !== undefined) void this.#checkDisk();
      this.#verifier.request();
      if (this.#o.scheduleCache !== undefined && counts.added + counts.changed + counts.removed > 0)
        await saveSchedule(this.#o.scheduleCache, {
          catalogue: safeLocation(this.#o.location),
          server: this.#o.server,
          entries: work.entries,
        }).catch((err: unknown) =>
          this.#log.warn({ event: 'cache_failed' }, `the schedule could not be cached: ${messageOf(err)}`),
        );
    } catch (err) {
      // Said once per outage, not at every retry.
      if (!this.#refreshFailing)
        this.#log.warn(
          { event: 'schedule_not_refreshed' },
          `the schedule was not refreshed (the one in force is kept): ${messageOf(err)}`,
        );
      this.#refreshFailing = true;
      if (!this.#scheduled && unreachableReason(err) !== undefined) await this.#scheduleFromCache();
    }
  }

  /** A start while the catalogue is down: the schedule the agent had, so promised dumps are still taken. */
  async #scheduleFromCache(): Promise<void> {
    if (this.#o.scheduleCache === undefined) return;
    try {
      const cached = await loadSchedule(this.#o.scheduleCache, {
        catalogue: safeLocation(this.#o.location),
        server: this.#o.server,
      });
      this.#scheduler.sync(cached.entries);
      this.#scheduled = true;
      this.#log.warn(
        { event: 'schedule_from_cache', entries: cached.entries.length, cachedAt: cached.cachedAt },
        `the catalogue cannot be reached: running the schedule cached at ${cached.cachedAt} (${cached.entries.length} dump(s)); records are spooled`,
      );
    } catch (err) {
      this.#log.warn(
        { event: 'no_cached_schedule' },
        `nothing to run until the catalogue answers: ${messageOf(err)}`,
      );
    }
  }

  #due(entry: ScheduleEntry<DumpJob>): void {
    const job = entry.payload;
    const offered = this.#queue.offer({ key: entry.key, node: job.node.name, payload: job });
    if (offered === 'already-running' || offered === 'already-queued') {
      this.#log.warn(
        { event: 'run_skipped', definition: entry.key },
        `${entry.key} is due but ${offered.replace('-', ' ')}: this run is skipped`,
      );
      this.#o.observe?.({ kind: 'run-skipped', job });
    }
    this.#o.observe?.({ kind: 'queue', depth: this.#queue.depth, running: this.#queue.running });
  }

  async #execute(item: QueueItem<DumpJob>): Promise<void> {
    const controller = new AbortController();
    this.#running.set(item.key, controller);
    try {
      const status = await runJob(item.key, item.payload, {
        location: this.#o.location,
        executor: this.#o.executor,
        secretsDir: this.#o.secretsDir,
        allowedDestinations: this.#o.allowedDestinations ?? [],
        // The revision the definition was applied from: true whoever applied it (CI, another agent).
        revision: item.payload.revision ?? null,
        signal: controller.signal,
        log: this.#log,
        observe: this.#o.observe,
      });
      // A new good dump may be what lets an old one go.
      if (
        (status === 'SUCCEEDED' || status === 'SUCCEEDED_PARTIAL') &&
        (this.#o.retentionIntervalMs ?? 3_600_000) > 0
      )
        this.#sweeper.request(item.payload.name);
    } finally {
      this.#running.delete(item.key);
      this.#o.observe?.({ kind: 'queue', depth: this.#queue.depth, running: this.#queue.running - 1 });
    }
  }
}
