import type { AlertFacts } from '../alerts/alert-message.ts';
import type { AlertEvent, Recipient, RunStatus, SecretFrom } from '../alerts/alert-rules.ts';
import type { Queryable } from './catalogue-db.ts';

// Every statement on pgbackman.alert_messages: the queue of messages about runs, and their delivery.

/** A queued message as the sender needs it. */
export interface QueuedAlert {
  readonly id: string;
  readonly channel: 'email' | 'webhook';
  readonly target: string;
  readonly format: 'json' | 'slack' | null;
  readonly secretFrom: SecretFrom | null;
  readonly facts: AlertFacts;
  readonly attempts: number;
}

/**
 * The status of the definition's last run that ran before `runId`, for `recovered`; null when it has none. MISSED
 * rows are passed over: a definition that failed, then was missed while the agent was down, then succeeded,
 * has recovered.
 */
export async function previousRunStatus(
  db: Queryable,
  definition: { kind: 'BackupDefinition' | 'SnapshotDefinition'; name: string },
  runId: string,
): Promise<RunStatus | null> {
  const column = definition.kind === 'BackupDefinition' ? 'definition' : 'snapshot';
  const rows = await db.query<{ status: RunStatus }>(
    `select status from pgbackman.backup_runs
      where ${column} = $1 and id <> $2 and status in ('SUCCEEDED', 'SUCCEEDED_PARTIAL', 'FAILED')
        and started_at <= (select coalesce(max(started_at), now()) from pgbackman.backup_runs where id = $2)
      order by started_at desc limit 1`,
    [definition.name, runId],
  );
  return rows[0]?.status ?? null;
}

/** When the last message of `event` about `definition` was queued for this recipient; null when never. */
export async function lastQueuedAt(
  db: Queryable,
  definition: string,
  event: AlertEvent,
  r: Recipient,
): Promise<Date | null> {
  const rows = await db.query<{ created_at: Date }>(
    `select created_at from pgbackman.alert_messages
      where definition = $1 and event = $2 and channel = $3 and target = $4
      order by created_at desc limit 1`,
    [definition, event, r.channel, r.target],
  );
  return rows[0] === undefined ? null : new Date(rows[0].created_at);
}

/** Queues one message per recipient; returns their ids. */
export async function queueAlerts(
  db: Queryable,
  server: string,
  facts: AlertFacts,
  recipients: readonly Recipient[],
): Promise<string[]> {
  const ids: string[] = [];
  for (const r of recipients) {
    const rows = await db.query<{ id: string }>(
      `insert into pgbackman.alert_messages
         (server, event, definition, run_id, channel, target, format, secret_from, payload)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9) returning id::text`,
      [
        server,
        facts.event,
        facts.definition,
        facts.runId,
        r.channel,
        r.target,
        r.channel === 'webhook' ? r.format : null,
        r.channel === 'webhook' && r.secretFrom !== undefined ? JSON.stringify(r.secretFrom) : null,
        JSON.stringify(facts),
      ],
    );
    ids.push((rows[0] as { id: string }).id);
  }
  return ids;
}

/**
 * Takes up to `limit` of this server's due messages: each is pushed `leaseMs` into the future as it is taken,
 * so a sender that dies holding one leaves it to be taken again then, and two senders never take the same.
 */
export async function claimDueAlerts(
  db: Queryable,
  server: string,
  limit: number,
  leaseMs: number,
): Promise<QueuedAlert[]> {
  const rows = await db.query<{
    id: string;
    channel: 'email' | 'webhook';
    target: string;
    format: 'json' | 'slack' | null;
    secret_from: SecretFrom | null;
    payload: AlertFacts;
    attempts: number;
  }>(
    `update pgbackman.alert_messages m
        set next_attempt_at = now() + ($3::bigint * interval '1 millisecond')
      where m.id in (select id from pgbackman.alert_messages
                      where server = $1 and status = 'PENDING' and next_attempt_at <= now()
                      order by next_attempt_at limit $2 for update skip locked)
      returning m.id::text, m.channel, m.target, m.format, m.secret_from, m.payload, m.attempts`,
    [server, limit, leaseMs],
  );
  return rows.map((r) => ({
    id: r.id,
    channel: r.channel,
    target: r.target,
    format: r.format,
    secretFrom: r.secret_from,
    facts: r.payload,
    attempts: r.attempts,
  }));
}

export async function markAlertSent(db: Queryable, id: string): Promise<void> {
  await db.query(
    `update pgbackman.alert_messages
        set status = 'SENT', sent_at = now(), attempts = attempts + 1, last_error = null
      where id = $1`,
    [id],
  );
}

/** A failed send: tried again after `retryInMs`, or given up (FAILED) when `retryInMs` is null. */
export async function markAlertFailed(
  db: Queryable,
  id: string,
  error: string,
  retryInMs: number | null,
): Promise<void> {
  await db.query(
    `update pgbackman.alert_messages
        set attempts = attempts + 1, last_error = $2,
            status = case when $3::bigint is null then 'FAILED' else 'PENDING' end,
            next_attempt_at = now() + (coalesce($3::bigint, 0) * interval '1 millisecond')
      where id = $1`,
    [id, error.slice(0, 2000), retryInMs],
  );
}
