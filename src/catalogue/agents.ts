import { PgbackmanError } from '../errors.ts';
import type { Queryable } from './catalogue-db.ts';

// Every statement on pgbackman.agents: an agent's row (start, heartbeat, conditions), the reconcile
// requests `pgbackman reconcile` leaves there, and the listing `get agents` reads.

export type ConditionType = 'Ready' | 'Reconciling' | 'Stalled';
export type ConditionStatus = 'True' | 'False' | 'Unknown';
export type ConditionReason =
  | 'Succeeded'
  | 'Progressing'
  | 'ValidationFailed'
  | 'ApplyFailed'
  | 'SourceFailed'
  | 'CatalogueUnavailable'
  /** The agent was stopped (SIGTERM, SIGINT): its last heartbeat says so, not Ready. */
  | 'Stopped';

/** A Flux-style condition: what is true of the agent now, why, and in words. */
export interface Condition {
  readonly type: ConditionType;
  readonly status: ConditionStatus;
  readonly reason: ConditionReason;
  readonly message: string;
}

/** Who an agent is: a backup server's agent on one host. */
export interface AgentIdentity {
  readonly server: string;
  readonly host: string;
}

export interface AgentRow extends AgentIdentity {
  readonly pid: number;
  readonly version: string;
  readonly startedAt: string;
  readonly heartbeatAt: string;
  readonly intervalMs: number;
  readonly source: string | null;
  readonly lastAppliedRevision: string | null;
  readonly lastAttemptedRevision: string | null;
  readonly conditions: readonly Condition[];
  readonly reconcileRequested: string | null;
  readonly reconcileHandled: string | null;
}

/** The agent's row at its start: a restarted agent takes over the row it left, keeping its revisions. */
export async function registerAgent(
  q: Queryable,
  a: AgentIdentity & { pid: number; version: string; intervalMs: number; source: string },
  /** Whether a pid is a live process on this host: an agent whose twin still beats refuses to start. */
  isAlive: (pid: number) => boolean = () => false,
): Promise<{ previousHeartbeat: Date | null }> {
  const [before] = await q.query<{
    heartbeat_at: Date | string;
    pid: number;
    interval_ms: string;
    age_ms: string;
  }>(
    `select heartbeat_at, pid, interval_ms::text,
            (extract(epoch from now() - heartbeat_at) * 1000)::bigint::text as age_ms
       from pgbackman.agents where server = $1 and host = $2`,
    [a.server, a.host],
  );
  // Stale after three missed heartbeats, as `get agents` says; a dead pid is a crash, not a twin.
  if (
    before !== undefined &&
    before.pid !== a.pid &&
    Number(before.age_ms) < 3 * Number(before.interval_ms) &&
    isAlive(before.pid)
  )
    throw new PgbackmanError(
      'AGENT_RUNNING',
      `an agent of BackupServer/${a.server} already runs on ${a.host} (pid ${before.pid}, last heartbeat ${Math.round(Number(before.age_ms) / 1000)} s ago): two agents of one server would take every dump twice; stop it first`,
    );
  await q.query(
    `insert into pgbackman.agents (server, host, pid, version, started_at, heartbeat_at, interval_ms, source)
     values ($1, $2, $3, $4, now(), now(), $5, $6)
     on conflict (server, host) do update set pid = excluded.pid, version = excluded.version,
            started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at,
            interval_ms = excluded.interval_ms, source = excluded.source`,
    [a.server, a.host, a.pid, a.version, a.intervalMs, a.source],
  );
  return { previousHeartbeat: before === undefined ? null : new Date(before.heartbeat_at) };
}

/** The heartbeat, with whatever the agent knows now; returns a reconcile request it has not handled yet. */
export async function heartbeat(
  q: Queryable,
  a: AgentIdentity & {
    pid: number;
    conditions?: readonly Condition[];
    lastAppliedRevision?: string | null;
    lastAttemptedRevision?: string | null;
    reconcileHandled?: string | null | undefined;
  },
): Promise<{ reconcileRequested: string | null }> {
  const rows = await q.query<{ reconcile_requested: string | null; reconcile_handled: string | null }>(
    `update pgbackman.agents set heartbeat_at = now(), pid = $3,
            conditions = coalesce($4::jsonb, conditions),
            last_applied_revision = case when $5 then $6 else last_applied_revision end,
            last_attempted_revision = case when $7 then $8 else last_attempted_revision end,
            reconcile_handled = coalesce($9, reconcile_handled)
      where server = $1 and host = $2
      returning reconcile_requested, reconcile_handled`,
    [
      a.server,
      a.host,
      a.pid,
      a.conditions === undefined ? null : JSON.stringify(a.conditions),
      a.lastAppliedRevision !== undefined,
      a.lastAppliedRevision ?? null,
      a.lastAttemptedRevision !== undefined,
      a.lastAttemptedRevision ?? null,
      a.reconcileHandled ?? null,
    ],
  );
  const [row] = rows;
  if (row === undefined || row.reconcile_requested === null) return { reconcileRequested: null };
  return {
    reconcileRequested: row.reconcile_requested === row.reconcile_handled ? null : row.reconcile_requested,
  };
}

/** Read only, for the embedded catalogue's 1 s poll: the apply serial, and a reconcile request not yet handled. */
export async function pollAgent(
  q: Queryable,
  a: AgentIdentity,
): Promise<{ serial: number; reconcileRequested: string | null }> {
  const [row] = await q.query<{ serial: string; requested: string | null; handled: string | null }>(
    `select c.serial::text, a.reconcile_requested as requested, a.reconcile_handled as handled
       from pgbackman.catalogue c left join pgbackman.agents a on a.server = $1 and a.host = $2`,
    [a.server, a.host],
  );
  const requested = row?.requested ?? null;
  return {
    serial: Number(row?.serial ?? 0),
    reconcileRequested: requested === null || requested === row?.handled ? null : requested,
  };
}

/** `pgbackman reconcile`: a new token on every agent (of one server); returns the agents asked. */
export async function requestReconcile(
  q: Queryable,
  token: string,
  server: string | undefined,
): Promise<AgentIdentity[]> {
  return q.query<AgentIdentity>(
    `update pgbackman.agents set reconcile_requested = $1 where ($2::text is null or server = $2)
      returning server, host`,
    [token, server ?? null],
  );
}

export async function listAgents(q: Queryable, filter: { server?: string } = {}): Promise<AgentRow[]> {
  const rows = await q.query<Record<string, unknown>>(
    `select server, host, pid, version, started_at, heartbeat_at, interval_ms::text, source,
            last_applied_revision, last_attempted_revision, conditions, reconcile_requested, reconcile_handled
       from pgbackman.agents where ($1::text is null or server = $1) order by server, host`,
    [filter.server ?? null],
  );
  const time = (v: unknown) => new Date(v as string).toISOString();
  const str = (v: unknown) => (v === null || v === undefined ? null : String(v));
  return rows.map((r) => ({
    server: String(r.server),
    host: String(r.host),
    pid: Number(r.pid),
    version: String(r.version),
    startedAt: time(r.started_at),
    heartbeatAt: time(r.heartbeat_at),
    intervalMs: Number(r.interval_ms),
    source: str(r.source),
    lastAppliedRevision: str(r.last_applied_revision),
    lastAttemptedRevision: str(r.last_attempted_revision),
    conditions: (r.conditions ?? []) as Condition[],
    reconcileRequested: str(r.reconcile_requested),
    reconcileHandled: str(r.reconcile_handled),
  }));
}

/** An agent whose heartbeat is older than three of its intervals (at least 30 s) is Stale. */
export function isStale(a: Pick<AgentRow, 'heartbeatAt' | 'intervalMs'>, now: Date): boolean {
  const limit = 3 * Math.max(a.intervalMs, 10_000);
  return now.getTime() - new Date(a.heartbeatAt).getTime() > limit;
}

/**
 * Stopped when it was stopped cleanly, Stale when the heartbeat stopped otherwise (killed, host gone), else
 * Stalled, Ready, Reconciling, NotReady or Starting: one word for the table.
 */
export function agentState(a: AgentRow, now: Date): string {
  if (a.conditions.some((c) => c.type === 'Ready' && c.reason === 'Stopped')) return 'Stopped';
  if (isStale(a, now)) return 'Stale';
  const is = (type: string) => a.conditions.some((c) => c.type === type && c.status === 'True');
  if (is('Stalled')) return 'Stalled';
  if (is('Ready')) return 'Ready';
  if (is('Reconciling')) return 'Reconciling';
  return a.conditions.length === 0 ? 'Starting' : 'NotReady';
}
