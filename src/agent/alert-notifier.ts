import { type AlertFacts, logTailOf } from '../alerts/alert-message.ts';
import {
  type AlertEvent,
  type EndSubject,
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
import type { Notify } from '../manifest/generated/manifest-types.ts';
import type { Logger } from '../observability/logger.ts';
import { classifySqlError } from '../sqlstate.ts';
import { fileSpool, memorySpool, type RunEndSpool } from './run-end-spool.ts';

/** A run's end, as the notifier is told of it: plain data, so it can wait on disk for the catalogue. */
export interface RunEnd {
  /** A dump's end (the default), or a restore test's. */
  readonly subject?: EndSubject;
  /** For a restore: RestoreDefinition, its target node and database. */
  readonly kind: 'BackupDefinition' | 'SnapshotDefinition' | 'RestoreDefinition' | 'BackupServer';
  readonly definition: string;
  readonly node: string;
  readonly server: string;
  /** null for a CLUSTER dump. */
  readonly database: string | null;
  /** The notify of the definition, its node and its server, nearest first (null where none). */
  readonly notify: readonly (Notify | null)[];
  readonly runId: string | null;
  readonly status: RunStatus;
  readonly error: string | null;
  readonly errorCode: string | null;
  readonly durationMs: number;
  /** When the run ended (ISO 8601). */
  readonly at: string;
}

export interface AlertNotifierOptions {
  readonly server: string;
  readonly use: <T>(fn: (db: Queryable) => Promise<T>) => Promise<T>;
  readonly log: Logger;
  readonly statusUrl: string | null;
  /** Where run ends wait until their messages are queued (the state directory's alerts/); memory when absent. */
  readonly spoolDir?: string;
  /** A message was queued: the deliverer should look now. */
  readonly queued: () => void;
}

/** Run ends waiting for the catalogue are kept up to this many; older ones are dropped, and that is said. */
const WAITING_MAX = 10_000;

/** The notify blocks of a job, nearest first. */
export function notifyOf(job: DumpJob): (Notify | null)[] {
  return [
    (job.kind === 'BackupDefinition' ? job.spec.notify : undefined) ?? null,
    job.node.spec.notify ?? null,
    job.server.spec.notify ?? null,
  ];
}

/**
 * Turns run ends into queued messages: the event (failed, recovered), who hears of it (the definition's,
 * node's and server's notify), the rate limit; queued in the catalogue, so the deliverer sends them whatever
 * happens to this process. Each run end is first written to the spool directory and removed once its
 * messages are queued: a catalogue that is down, or a SIGKILL, delays them, and loses none.
 */
export class AlertNotifier {
  readonly #o: AlertNotifierOptions;
  readonly #spool: RunEndSpool;
  #busy: Promise<void> = Promise.resolve();

  constructor(o: AlertNotifierOptions) {
    this.#o = o;
    this.#spool = o.spoolDir === undefined ? memorySpool() : fileSpool(o.spoolDir);
  }

  /** A run ended: its messages are queued in the background, in the order runs ended. */
  runEnded(end: RunEnd): void {
    if (end.notify.every((b) => b === null)) return;
    this.#busy = this.#busy.then(async () => {
      try {
        const dropped = await this.#spool.add(end, WAITING_MAX);
        if (dropped > 0)
          this.#o.log.error(
            { event: 'alert_dropped', dropped },
            `${dropped} alert(s) dropped: ${WAITING_MAX} wait for the catalogue`,
          );
      } catch (err) {
        this.#o.log.error(
          { event: 'alert_not_spooled', definition: end.definition, err: messageOf(err) },
          `an alert about ${end.definition} could not be written to the spool: ${messageOf(err)}`,
        );
      }
      await this.#drain();
    });
  }

  /** Queues what waits (at start, and after the catalogue came back). */
  retry(): void {
    this.#busy = this.#busy.then(() => this.#drain());
  }

  /** Waits for what is being queued now. */
  async settled(): Promise<void> {
    await this.#busy;
  }

  async #drain(): Promise<void> {
    for (;;) {
      const next = await this.#spool.first().catch((err: unknown) => {
        this.#o.log.warn({ event: 'alert_spool_unreadable', err: messageOf(err) }, messageOf(err));
        return undefined;
      });
      if (next === undefined) return;
      try {
        await this.#queue(next.end);
      } catch (err) {
        // Only what the catalogue refuses as data (22xxx, 23xxx) is set aside: anything else may pass.
        if (classifySqlError(err) !== 'data') {
          this.#o.log.warn(
            { event: 'alert_not_queued', definition: next.end.definition, err: messageOf(err) },
            `an alert about ${next.end.definition} waits for the catalogue: ${messageOf(err)}`,
          );
          return;
        }
        // Trying again would block every alert after it.
        this.#o.log.error(
          { event: 'alert_refused', definition: next.end.definition, err: messageOf(err) },
          `an alert about ${next.end.definition} was refused by the catalogue and set aside: ${messageOf(err)}`,
        );
        await next.setAside();
        continue;
      }
      await next.done();
    }
  }

  /** The status of the definition's run before this one, for `recovered`; only a dump's success asks. */
  async #previous(end: RunEnd): Promise<RunStatus | null> {
    if (end.status !== 'SUCCEEDED' && end.status !== 'SUCCEEDED_PARTIAL') return null;
    if (end.subject === 'restore-test' || end.subject === 'restore') return null;
    const { runId } = end;
    if (runId === null || end.kind === 'RestoreDefinition' || end.kind === 'BackupServer') return null;
    const definition = { kind: end.kind, name: end.definition };
    return this.#o.use((db) => previousRunStatus(db, definition, runId));
  }

  async #queue(end: RunEnd): Promise<void> {
    const previous = await this.#previous(end);
    const event = eventOfRun(end.status, previous, end.subject);
    if (event === undefined) return;
    const recipients: Recipient[] = [];
    const blocks = end.notify.map((b) => b ?? undefined);
    for (const r of recipientsOf(blocks, event)) {
      const last = await this.#o.use((db) => lastQueuedAt(db, end.definition, event, r));
      if (heldBack(event, last, new Date(end.at), r.minIntervalMs)) {
        this.#o.log.debug(
          { event: 'alert_held_back', alert: event, definition: end.definition, channel: r.channel },
          `${event} of ${end.definition} not sent again to a recipient within its minInterval`,
        );
        continue;
      }
      recipients.push(r);
    }
    if (recipients.length === 0) return;
    const facts = factsOf(end, event, this.#o.statusUrl);
    await this.#o.use((db) => queueAlerts(db, this.#o.server, facts, recipients));
    this.#o.log.info(
      { event: 'alert_queued', alert: event, definition: end.definition, recipients: recipients.length },
      `alert queued: ${event} of ${end.kind}/${end.definition} for ${recipients.length} recipient(s)`,
    );
    this.#o.queued();
  }
}

function factsOf(end: RunEnd, event: AlertEvent, statusUrl: string | null): AlertFacts {
  const error = end.error === null ? null : logTailOf(end.error);
  const firstLine = error?.split('\n')[0] ?? null;
  return {
    event,
    kind: end.kind,
    definition: end.definition,
    server: end.server,
    node: end.node,
    database: end.database,
    runId: end.runId,
    status: end.status,
    error: firstLine,
    errorCode: end.errorCode,
    // A tool's own words, when the error carries more than its first line.
    logTail: error !== null && error !== firstLine ? error : null,
    durationMs: end.durationMs,
    at: end.at,
    statusUrl,
  };
}
