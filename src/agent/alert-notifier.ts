import { type AlertFacts, logTailOf } from '../alerts/alert-message.ts';
import {
  type AlertEvent,
  eventOfRun,
  heldBack,
  type Recipient,
  type RunStatus,
  recipientsOf,
} from '../alerts/alert-rules.ts';
import type { DumpJob } from '../backup/run-dump.ts';
import { lastQueuedAt, previousRunStatus, queueAlerts } from '../catalogue/alert-messages.ts';
import type { Queryable } from '../catalogue/catalogue-db.ts';
import { messageOf } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';

/** A run's end, as the notifier is told of it. */
export interface RunEnd {
  readonly job: DumpJob;
  /** null for a CLUSTER dump. */
  readonly database: string | null;
  readonly runId: string | null;
  readonly status: RunStatus;
  readonly error: string | null;
  readonly errorCode: string | null;
  readonly durationMs: number;
  readonly at: Date;
}

export interface AlertNotifierOptions {
  readonly server: string;
  readonly use: <T>(fn: (db: Queryable) => Promise<T>) => Promise<T>;
  readonly log: Logger;
  readonly statusUrl: string | null;
  /** A message was queued: the deliverer should look now. */
  readonly queued: () => void;
}

/** Run ends not queued yet (the catalogue is down) are kept up to this many; older ones are dropped, said. */
const WAITING_MAX = 1000;

/**
 * Turns run ends into queued messages: the event (failed, recovered), who hears of it (the definition's,
 * node's and server's notify), the rate limit; queued in the catalogue, so the deliverer sends them whatever
 * happens to this process. While the catalogue is down they wait here and are queued when it answers.
 */
export class AlertNotifier {
  readonly #o: AlertNotifierOptions;
  readonly #waiting: RunEnd[] = [];
  #busy: Promise<void> = Promise.resolve();

  constructor(o: AlertNotifierOptions) {
    this.#o = o;
  }

  /** A run ended: its messages are queued in the background, in the order runs ended. */
  runEnded(end: RunEnd): void {
    if (this.#blocks(end.job).every((b) => b === undefined)) return;
    this.#waiting.push(end);
    if (this.#waiting.length > WAITING_MAX) {
      const dropped = this.#waiting.shift() as RunEnd;
      this.#o.log.error(
        { event: 'alert_dropped', definition: dropped.job.name },
        `an alert about ${dropped.job.name} was dropped: ${WAITING_MAX} wait for the catalogue`,
      );
    }
    this.retry();
  }

  /** Queues what waits (after the catalogue came back). */
  retry(): void {
    this.#busy = this.#busy.then(() => this.#drain());
  }

  /** Waits for what is being queued now. */
  async settled(): Promise<void> {
    await this.#busy;
  }

  async #drain(): Promise<void> {
    while (this.#waiting.length > 0) {
      const end = this.#waiting[0] as RunEnd;
      try {
        await this.#queue(end);
      } catch (err) {
        this.#o.log.warn(
          { event: 'alert_not_queued', definition: end.job.name, err: messageOf(err) },
          `an alert about ${end.job.name} waits for the catalogue: ${messageOf(err)}`,
        );
        return;
      }
      this.#waiting.shift();
    }
  }

  #blocks(job: DumpJob) {
    const own = job.kind === 'BackupDefinition' ? job.spec.notify : undefined;
    return [own, job.node.spec.notify, job.server.spec.notify];
  }

  async #queue(end: RunEnd): Promise<void> {
    const { job } = end;
    const previous =
      end.status === 'FAILED' || end.runId === null
        ? null
        : await this.#o.use((db) => previousRunStatus(db, job, end.runId as string));
    const event = eventOfRun(end.status, previous);
    if (event === undefined) return;
    const recipients: Recipient[] = [];
    for (const r of recipientsOf(this.#blocks(job), event)) {
      const last = await this.#o.use((db) => lastQueuedAt(db, job.name, event, r));
      if (heldBack(event, last, end.at, r.minIntervalMs)) {
        this.#o.log.debug(
          { event: 'alert_held_back', alert: event, definition: job.name, channel: r.channel },
          `${event} of ${job.name} not sent again to a recipient within its minInterval`,
        );
        continue;
      }
      recipients.push(r);
    }
    if (recipients.length === 0) return;
    const facts = this.#facts(end, event);
    await this.#o.use((db) => queueAlerts(db, this.#o.server, facts, recipients));
    this.#o.log.info(
      { event: 'alert_queued', alert: event, definition: job.name, recipients: recipients.length },
      `alert queued: ${event} of ${job.kind}/${job.name} for ${recipients.length} recipient(s)`,
    );
    this.#o.queued();
  }

  #facts(end: RunEnd, event: AlertEvent): AlertFacts {
    const { job } = end;
    const error = end.error === null ? null : logTailOf(end.error);
    const firstLine = error?.split('\n')[0] ?? null;
    return {
      event,
      kind: job.kind,
      definition: job.name,
      server: job.server.name,
      node: job.node.name,
      database: end.database,
      runId: end.runId ?? '(not recorded)',
      status: end.status,
      error: firstLine,
      errorCode: end.errorCode,
      // A tool's own words, when the error carries more than its first line.
      logTail: error !== null && error !== firstLine ? error : null,
      durationMs: end.durationMs,
      at: end.at.toISOString(),
      statusUrl: this.#o.statusUrl,
    };
  }
}
