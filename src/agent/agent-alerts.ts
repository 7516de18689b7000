import type { AlertChannels } from '../alerts/alert-channels.ts';
import { AlertDeliverer } from '../alerts/alert-deliverer.ts';
import type { DumpJob } from '../backup/run-dump.ts';
import type { Queryable } from '../catalogue/catalogue-db.ts';
import type { Logger } from '../observability/logger.ts';
import type { AgentEvent } from './agent.ts';
import { AlertNotifier, notifyOf } from './alert-notifier.ts';

/** The operator's alert channels, and how a message that could not be sent is tried again. */
export interface AlertSettings extends AlertChannels {
  /** The first retry's delay (default 30 s); each next one doubles, up to an hour. */
  readonly retryBaseMs?: number;
  /** Failed sends before a message is given up (default 20: about a day of retries). */
  readonly maxAttempts?: number;
  /** How often queued messages are looked at besides right after a run (default 30 s). */
  readonly pollMs?: number;
}

export interface AgentAlertsOptions {
  /** The agent's jobs now: whose notify hears of a dump retention may not delete. */
  readonly jobs: () => readonly DumpJob[];
  readonly server: string;
  readonly use: <T>(fn: (db: Queryable) => Promise<T>) => Promise<T>;
  readonly log: Logger;
  readonly secretsDir: string;
  readonly settings: AlertSettings;
  /** Where run ends wait until their messages are queued (the state directory's alerts/). */
  readonly spoolDir?: string;
  /** Each send's outcome (the agent's observers: the metrics). */
  readonly report?: (o: { channel: string; event: string; outcome: 'sent' | 'retry' | 'failed' }) => void;
}

/** The manifests' notify for one agent: its run events queued as messages, and the messages sent. */
export class AgentAlerts {
  readonly pollMs: number;
  readonly #server: string;
  readonly #deliverer: AlertDeliverer;
  readonly #notifier: AlertNotifier;
  readonly #jobs: () => readonly DumpJob[];

  constructor(o: AgentAlertsOptions) {
    this.pollMs = o.settings.pollMs ?? 30_000;
    this.#server = o.server;
    this.#jobs = o.jobs;
    this.#deliverer = new AlertDeliverer({
      server: o.server,
      use: o.use,
      log: o.log,
      channels: o.settings,
      env: process.env,
      secretsDir: o.secretsDir,
      retryBaseMs: o.settings.retryBaseMs ?? 30_000,
      maxAttempts: o.settings.maxAttempts ?? 20,
      ...(o.report === undefined ? {} : { report: o.report }),
    });
    this.#notifier = new AlertNotifier({
      server: o.server,
      use: o.use,
      log: o.log,
      statusUrl: o.settings.statusUrl,
      ...(o.spoolDir === undefined ? {} : { spoolDir: o.spoolDir }),
      queued: () => this.#deliverer.request(),
    });
  }

  /** Queues what waited in the spool, and sends what is due now. */
  deliver(): void {
    this.#notifier.retry();
    this.#deliverer.request();
  }

  /** The last runs' messages are queued, and the one being sent finishes; the rest wait for the next start. */
  async stop(): Promise<void> {
    await this.#notifier.settled();
    await this.#deliverer.stop();
  }

  readonly observe = (event: AgentEvent): void => {
    const at = new Date().toISOString();
    switch (event.kind) {
      case 'run-finished':
        this.#notifier.runEnded({
          ...this.#about(event.job),
          database: event.result.settings.code === 'CLUSTER' ? null : (event.job.spec.database ?? null),
          runId: event.result.id,
          status: event.result.status,
          error: event.result.error,
          errorCode: event.result.errorCode,
          durationMs: event.result.durationMs,
          at,
        });
        return;
      case 'run-crashed':
        this.#notifier.runEnded({
          ...this.#about(event.job),
          database: event.job.spec.database ?? null,
          runId: null,
          status: 'FAILED',
          error: 'the run could not be recorded (the agent logged why)',
          errorCode: 'INTERNAL',
          durationMs: event.durationMs,
          at,
        });
        return;
      case 'runs-missed':
        this.#notifier.runEnded({
          ...this.#about(event.job),
          database: event.job.spec.database ?? null,
          runId: event.runId,
          status: 'MISSED',
          error: `${event.missed} scheduled run(s) ${event.reason}`,
          errorCode: null,
          durationMs: 0,
          at,
        });
        return;
      case 'restore-test': {
        const t = event.test;
        if (t === undefined || event.status !== 'VERIFY_FAILED') return;
        this.#notifier.runEnded({
          subject: 'restore-test',
          ...this.#about(t.job),
          database: t.job.kind === 'BackupDefinition' ? (t.job.spec.database ?? null) : null,
          runId: t.run,
          status: 'FAILED',
          error: t.error,
          errorCode: 'VERIFY_FAILED',
          durationMs: t.durationMs,
          at,
        });
        return;
      }
      case 'restore': {
        const f = event.failed;
        if (f === undefined) return;
        this.#notifier.runEnded({
          subject: 'restore',
          kind: 'RestoreDefinition',
          definition: f.name,
          node: f.targetNode,
          server: this.#server,
          database: f.targetDatabase,
          notify: f.notify,
          runId: f.backupId,
          status: 'FAILED',
          error: f.error,
          errorCode: 'RESTORE_FAILED',
          durationMs: f.durationMs,
          at,
        });
        return;
      }
      case 'overdue': {
        const n = event.notice;
        this.#notifier.runEnded({
          kind: n.kind,
          definition: n.definition,
          node: n.node,
          server: n.server,
          database: n.database,
          notify: n.notify,
          runId: n.lastSuccess?.id ?? null,
          status: 'OVERDUE',
          error:
            n.lastSuccess === null
              ? `no successful dump yet; one was due by ${n.dueBy} (its schedule's time plus grace)`
              : `no successful dump since ${n.lastSuccess.at}; one was due by ${n.dueBy} (its schedule's time plus grace)`,
          errorCode: 'OVERDUE',
          durationMs: 0,
          at,
        });
        return;
      }
      case 'retention-blocked': {
        const { dump, why } = event;
        const job = this.#jobs().find((j) => j.name === (dump.definition ?? dump.snapshot));
        this.#notifier.runEnded({
          kind: dump.definition !== null ? 'BackupDefinition' : 'SnapshotDefinition',
          definition: dump.definition ?? dump.snapshot ?? '-',
          node: job?.node.name ?? '-',
          server: dump.server,
          database: job?.spec.database ?? null,
          // A definition gone from the manifests (its dumps age out) has no job: its server's notify hears.
          notify: job === undefined ? [null, null, event.serverNotify] : notifyOf(job),
          runId: dump.id,
          status: 'RETENTION_BLOCKED',
          error: why,
          errorCode: 'RETENTION_BLOCKED',
          durationMs: 0,
          at,
        });
        return;
      }
      case 'disk-low': {
        const n = event.notice;
        const gib = (b: number) => `${(b / 1024 ** 3).toFixed(1)} GiB`;
        this.#notifier.runEnded({
          kind: 'BackupServer',
          definition: n.server,
          node: '-',
          server: n.server,
          database: null,
          notify: [n.notify],
          runId: null,
          status: 'DISK_LOW',
          error: `${gib(n.freeBytes)} free of ${gib(n.totalBytes)} under ${n.root}, below ${gib(n.thresholdBytes)} (twice its diskReserve of ${n.reserve}: below the reserve itself no dump starts)`,
          errorCode: 'DISK_LOW',
          durationMs: 0,
          at,
        });
        return;
      }
      case 'catalogue':
        if (event.up) this.#notifier.retry();
        return;
      default:
        return;
    }
  };

  #about(job: DumpJob) {
    return {
      kind: job.kind,
      definition: job.name,
      node: job.node.name,
      server: job.server.name,
      notify: notifyOf(job),
    };
  }
}
