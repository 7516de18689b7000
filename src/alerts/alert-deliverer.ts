import {
  claimDueAlerts,
  markAlertFailed,
  markAlertSent,
  type QueuedAlert,
} from '../catalogue/alert-messages.ts';
import type { Queryable } from '../catalogue/catalogue-db.ts';
import { messageOf } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import { retryDelayMs } from './alert-rules.ts';
import { alertSender, type SendContext } from './send-alert.ts';

export interface AlertDelivererOptions extends SendContext {
  readonly server: string;
  /** Runs `fn` on the catalogue (the agent's link: bounded, and failing fast while it is down). */
  readonly use: <T>(fn: (db: Queryable) => Promise<T>) => Promise<T>;
  readonly log: Logger;
  /** The first retry's delay; each next one doubles, up to an hour. */
  readonly retryBaseMs: number;
  /** After this many failed sends a message is given up (FAILED, with its last error). */
  readonly maxAttempts: number;
  /** Each send's outcome, for the metrics. */
  readonly report?: (o: { channel: string; event: string; outcome: 'sent' | 'retry' | 'failed' }) => void;
}

/** Messages taken per pass; a pass repeats while it finds as many. */
const BATCH = 20;
/** A taken message is someone else's to take again after this long (its sender died). */
const LEASE_MS = 120_000;

/** A webhook's URL may hold a token (Slack's do): logs show its origin only. */
export function shownTarget(m: Pick<QueuedAlert, 'channel' | 'target'>): string {
  if (m.channel === 'email') return m.target;
  try {
    return `${new URL(m.target).origin}/…`;
  } catch {
    return '(a webhook)';
  }
}

/**
 * Sends the server's queued messages: each due one is taken from the catalogue, sent by its channel and
 * marked SENT, or tried again later with backoff, or FAILED when trying again cannot help. One pass at a
 * time; one asked for meanwhile runs after it. Nothing here waits on a backup, nor a backup on it.
 */
export class AlertDeliverer {
  readonly #o: AlertDelivererOptions;
  readonly #sender: ReturnType<typeof alertSender>;
  #running: Promise<void> | undefined;
  #wanted = false;
  #stopped = false;
  /** The next retry's wake-up: a message tried again on time, not at the next poll. */
  #timer: { at: number; handle: NodeJS.Timeout } | undefined;

  constructor(o: AlertDelivererOptions) {
    this.#o = o;
    this.#sender = alertSender(o);
  }

  request(): void {
    if (this.#stopped) return;
    this.#wanted = true;
    if (this.#running !== undefined) return;
    this.#running = this.#loop().finally(() => {
      this.#running = undefined;
    });
  }

  /** Lets the message being sent finish (each send is bounded) and closes the SMTP connection. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer?.handle);
    await this.#running;
    this.#sender.close();
  }

  async #loop(): Promise<void> {
    while (this.#wanted && !this.#stopped) {
      this.#wanted = false;
      try {
        if ((await this.#pass()) === BATCH) this.#wanted = true;
      } catch (err) {
        // The catalogue is down: the messages wait there (or in the notifier) for the next pass.
        this.#o.log.debug({ event: 'alerts_not_taken', err: messageOf(err) }, messageOf(err));
      }
    }
  }

  #wakeIn(ms: number): void {
    const at = Date.now() + ms;
    if (this.#stopped || (this.#timer !== undefined && this.#timer.at <= at)) return;
    clearTimeout(this.#timer?.handle);
    const handle = setTimeout(() => {
      this.#timer = undefined;
      this.request();
    }, ms);
    // A retry never holds a stopping process open.
    handle.unref();
    this.#timer = { at, handle };
  }

  async #pass(): Promise<number> {
    const { use, server, log } = this.#o;
    const due = await use((db) => claimDueAlerts(db, server, BATCH, LEASE_MS));
    for (const m of due) {
      if (this.#stopped) break;
      const outcome = await this.#sender.send(m);
      const to = `${m.channel} ${shownTarget(m)}`;
      const about = `${m.facts.event} of ${m.facts.kind}/${m.facts.definition}`;
      if (outcome.kind === 'sent') {
        await use((db) => markAlertSent(db, m.id));
        this.#o.report?.({ channel: m.channel, event: m.facts.event, outcome: 'sent' });
        log.info(
          {
            event: 'alert_sent',
            id: m.id,
            channel: m.channel,
            alert: m.facts.event,
            definition: m.facts.definition,
          },
          `alert sent to ${to}: ${about}`,
        );
        continue;
      }
      const attempts = m.attempts + 1;
      const retryIn =
        outcome.kind === 'transient' && attempts < this.#o.maxAttempts
          ? retryDelayMs(attempts, this.#o.retryBaseMs)
          : null;
      await use((db) => markAlertFailed(db, m.id, outcome.error, retryIn));
      this.#o.report?.({
        channel: m.channel,
        event: m.facts.event,
        outcome: retryIn === null ? 'failed' : 'retry',
      });
      if (retryIn !== null) this.#wakeIn(retryIn);
      if (retryIn === null)
        log.error(
          { event: 'alert_failed', id: m.id, channel: m.channel, attempts, err: outcome.error },
          `alert to ${to} given up after ${attempts} attempt(s): ${outcome.error}`,
        );
      else
        log.warn(
          {
            event: 'alert_retry',
            id: m.id,
            channel: m.channel,
            attempts,
            retryInMs: retryIn,
            err: outcome.error,
          },
          `alert to ${to} not sent (${outcome.error}); trying again in ${Math.round(retryIn / 1000)} s`,
        );
    }
    return due.length;
  }
}
