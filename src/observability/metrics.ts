import {
  Counter,
  collectDefaultMetrics,
  Gauge,
  Histogram,
  type MetricObjectWithValues,
  type MetricValue,
  Registry,
} from 'prom-client';
import type { ErrorCode } from '../errors.ts';

/** One finished run, as `runDump`'s DumpResult and its job describe it. */
export interface RunOutcome {
  /** The BackupDefinition's or Snapshot's name (not its run id: labels stay few). */
  readonly definition: string;
  readonly node: string;
  /** undefined, null or '' for a CLUSTER dump; exported as ''. */
  readonly database?: string | null | undefined;
  readonly status: 'SUCCEEDED' | 'SUCCEEDED_PARTIAL' | 'FAILED';
  readonly durationMs: number;
  readonly bytes?: number | null | undefined;
  /** Why it failed; a failure without one is counted as INTERNAL. */
  readonly errorCode?: ErrorCode | null | undefined;
  readonly finishedAt: Date;
}

export const CONDITION_TYPES = ['Ready', 'Reconciling', 'Stalled'] as const;
export const CONDITION_STATUSES = ['True', 'False', 'Unknown'] as const;
export type ConditionType = (typeof CONDITION_TYPES)[number];
export type ConditionStatus = (typeof CONDITION_STATUSES)[number];

export interface ReconcileReport {
  readonly conditions: Readonly<Record<ConditionType, ConditionStatus>>;
  /** The source revision now applied; undefined before the first fetch. */
  readonly revision?: string | undefined;
  /** Set when this reconcile succeeded. */
  readonly succeededAt?: Date | undefined;
}

type Labels = Record<string, string | number>;

// A dump takes seconds to hours: 1 s … 6 h.
const DURATION_BUCKETS = [1, 5, 15, 30, 60, 300, 900, 1800, 3600, 7200, 14400, 21600];

/** The agent's Prometheus metrics, in a registry of its own (the global one is never touched). */
export class AgentMetrics {
  readonly registry = new Registry();
  private running = 0;
  private readonly lastSuccess: Gauge<'definition' | 'node' | 'database'>;
  private readonly bytes: Gauge<'definition' | 'node' | 'database'>;
  private readonly duration: Histogram<'definition' | 'node' | 'status'>;
  private readonly failures: Counter<'definition' | 'node' | 'reason'>;
  private readonly runningGauge: Gauge;
  private readonly queueDepth: Gauge;
  private readonly spoolRecords: Gauge;
  private readonly catalogueUp: Gauge;
  private readonly reconcileLastSuccess: Gauge;
  private readonly condition: Gauge<'type' | 'status'>;
  private readonly revision: Gauge<'revision'>;
  private currentRevision: string | undefined;
  private readonly skipped: Counter<'definition' | 'node'>;
  private readonly retentionDeleted: Counter;
  private readonly uploadBytes: Counter<'destination'>;
  private readonly copyFailures: Counter<'destination'>;
  private readonly retentionKept: Counter;
  private readonly retentionUnknown: Gauge;
  private readonly restores: Counter;
  private readonly restoreTests: Counter;
  private readonly lastVerified: Gauge;
  private readonly alerts: Counter;

  constructor(options: { readonly version: string }) {
    const registers = [this.registry];
    // Event-loop delay sampled every 100 ms, not prom-client's 10: 100 wake-ups a second cost ~1% of a core.
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 100 });
    const gauge = <L extends string = string>(name: string, help: string, labelNames: readonly L[] = []) =>
      new Gauge<L>({ name: `pgbackman_${name}`, help, labelNames, registers });
    gauge('build_info', 'pgbackman version; always 1', ['version']).set({ version: options.version }, 1);
    this.lastSuccess = gauge(
      'backup_last_success_timestamp_seconds',
      'When the last successful dump of a definition finished (Unix time); failures never set it',
      ['definition', 'node', 'database'],
    );
    this.duration = new Histogram({
      name: 'pgbackman_backup_duration_seconds',
      help: 'How long dumps took, by outcome',
      labelNames: ['definition', 'node', 'status'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.bytes = gauge('backup_bytes', 'Size of the last successful dump', [
      'definition',
      'node',
      'database',
    ]);
    this.failures = new Counter({
      name: 'pgbackman_backup_failures_total',
      help: 'Failed dumps, by error code',
      labelNames: ['definition', 'node', 'reason'],
      registers,
    });
    this.runningGauge = gauge('backups_running', 'Dumps in progress');
    this.queueDepth = gauge('queue_depth', 'Runs waiting for a slot');
    this.spoolRecords = gauge('spool_records', 'Run records waiting in the spool for the catalogue');
    this.catalogueUp = gauge(
      'catalogue_up',
      '1 when the last catalogue call succeeded, 0 while runs are spooled',
    );
    this.reconcileLastSuccess = gauge(
      'reconcile_last_success_timestamp_seconds',
      'When the manifests were last reconciled successfully (Unix time)',
    );
    this.condition = gauge(
      'reconcile_condition',
      "The agent's reconcile conditions: 1 for the status each type has, 0 for the others",
      ['type', 'status'],
    );
    this.revision = gauge('source_revision_info', 'The source revision applied; always 1', ['revision']);
    this.skipped = new Counter({
      name: 'pgbackman_backup_skipped_total',
      help: 'Scheduled runs not taken because the previous run of the definition was still running or waiting',
      labelNames: ['definition', 'node'],
      registers,
    });
    this.uploadBytes = new Counter({
      name: 'pgbackman_upload_bytes_total',
      help: 'Bytes copied to each further storage destination (after a dump, and when a failed copy is made later)',
      labelNames: ['destination'],
      registers,
    });
    this.copyFailures = new Counter({
      name: 'pgbackman_copy_failures_total',
      help: 'Copies to a further storage destination that failed (the dump is then SUCCEEDED_PARTIAL)',
      labelNames: ['destination'],
      registers,
    });
    this.retentionDeleted = new Counter({
      name: 'pgbackman_retention_deleted_total',
      help: 'Dumps retention deleted',
      registers,
    });
    this.retentionKept = new Counter({
      name: 'pgbackman_retention_refused_total',
      help: 'Deletions retention refused (an unsafe path) or that a pin overtook: those dumps were kept',
      registers,
    });
    this.retentionUnknown = gauge(
      'retention_unknown_paths',
      "Entries under the server's root that no catalogue row knows, at the last sweep (never deleted)",
    );
    this.restores = new Counter({
      name: 'pgbackman_restores_total',
      help: 'RestoreDefinitions the agent restored, by outcome: SUCCEEDED, FAILED, or RETRY (not started; tried again)',
      labelNames: ['status'],
      registers,
    });
    this.alerts = new Counter({
      name: 'pgbackman_alerts_total',
      help: 'Alert messages the agent tried to send, by channel, event and outcome: sent, retry (tried again later) or failed (given up)',
      labelNames: ['channel', 'event', 'outcome'],
      registers,
    });
    this.restoreTests = new Counter({
      name: 'pgbackman_restore_tests_total',
      help: 'Restore tests (spec.verify) the agent ran, by result: VERIFIED or VERIFY_FAILED',
      labelNames: ['definition', 'status'],
      registers,
    });
    this.lastVerified = new Gauge({
      name: 'pgbackman_backup_last_verified_timestamp_seconds',
      help: "When a restore test last proved a definition's dump restorable (Unix time)",
      labelNames: ['definition'],
      registers,
    });
    this.reconciled({ conditions: { Ready: 'Unknown', Reconciling: 'Unknown', Stalled: 'Unknown' } });
  }

  runSkipped(definition: string, node: string): void {
    this.skipped.inc({ definition, node });
  }

  swept(r: { deleted: number; skipped: number; unknown?: number }): void {
    this.retentionDeleted.inc(r.deleted);
    this.retentionKept.inc(r.skipped);
    if (r.unknown !== undefined) this.retentionUnknown.set(r.unknown);
  }

  alerted(channel: string, event: string, outcome: 'sent' | 'retry' | 'failed'): void {
    this.alerts.inc({ channel, event, outcome });
  }

  restoreTested(definition: string, verifiedAt: Date | null, status: string | undefined): void {
    if (status !== undefined) this.restoreTests.inc({ definition, status });
    if (verifiedAt !== null) this.lastVerified.set({ definition }, verifiedAt.getTime() / 1000);
  }

  restored(status: string): void {
    this.restores.inc({ status });
  }

  runStarted(): void {
    this.runningGauge.set(++this.running);
  }

  /** Ends what runStarted began; only a success moves the last-success time and size. */
  runFinished(run: RunOutcome): void {
    this.running = Math.max(0, this.running - 1);
    this.runningGauge.set(this.running);
    const { definition, node } = run;
    this.duration.observe({ definition, node, status: run.status }, run.durationMs / 1000);
    if (run.status === 'FAILED') {
      this.failures.inc({ definition, node, reason: run.errorCode ?? 'INTERNAL' });
      return;
    }
    const labels = { definition, node, database: run.database ?? '' };
    this.lastSuccess.set(labels, run.finishedAt.getTime() / 1000);
    if (run.bytes !== undefined && run.bytes !== null) this.bytes.set(labels, run.bytes);
  }

  /** Copies of dumps to further destinations, as they were made or failed. */
  copied(
    copies: readonly {
      readonly destination: string;
      readonly status: string;
      readonly bytes: number | null;
    }[],
  ): void {
    for (const c of copies)
      if (c.status === 'COPIED') this.uploadBytes.inc({ destination: c.destination }, c.bytes ?? 0);
      else if (c.status === 'FAILED') this.copyFailures.inc({ destination: c.destination });
  }

  setQueueDepth(n: number): void {
    this.queueDepth.set(n);
  }

  setSpoolRecords(n: number): void {
    this.spoolRecords.set(n);
  }

  setCatalogueUp(up: boolean): void {
    this.catalogueUp.set(up ? 1 : 0);
  }

  /** After each reconcile: its conditions, the revision it applied (the previous one's series removed). */
  reconciled(report: ReconcileReport): void {
    for (const type of CONDITION_TYPES)
      for (const status of CONDITION_STATUSES)
        this.condition.set({ type, status }, report.conditions[type] === status ? 1 : 0);
    if (report.revision !== undefined && report.revision !== this.currentRevision) {
      this.revision.reset();
      this.revision.set({ revision: report.revision }, 1);
      this.currentRevision = report.revision;
    }
    if (report.succeededAt !== undefined) this.reconcileLastSuccess.set(report.succeededAt.getTime() / 1000);
  }

  /** Drops the series of definitions no longer in the manifests, so deleted ones do not linger. */
  async retainDefinitions(names: Iterable<string>): Promise<void> {
    const keep = new Set(names);
    const metrics: {
      get(): Promise<MetricObjectWithValues<MetricValue<string>>>;
      remove(l: Labels): void;
    }[] = [this.lastSuccess, this.bytes, this.duration, this.failures];
    for (const metric of metrics) {
      const stale = new Map<string, Labels>();
      for (const { labels } of (await metric.get()).values) {
        // A histogram's buckets carry `le`; its series is named without it.
        const { le: _bucket, ...series } = labels as Labels;
        if (typeof series.definition === 'string' && !keep.has(series.definition))
          stale.set(JSON.stringify(series), series);
      }
      for (const series of stale.values()) metric.remove(series);
    }
  }

  /** The exposition a scrape gets. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
