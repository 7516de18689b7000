-- The agents: one row per agent (a backup server's name on one host), its heartbeat and Flux-style conditions.
create table pgbackman.agents (
  server text not null,
  host text not null,
  pid integer not null,
  version text not null,
  started_at timestamptz not null,
  heartbeat_at timestamptz not null,
  interval_ms bigint not null,
  source text,
  last_applied_revision text,
  last_attempted_revision text,
  conditions jsonb not null default '[]',
  -- `pgbackman reconcile` asks by setting a new token; the agent echoes it once it has reconciled.
  reconcile_requested text,
  reconcile_handled text,
  primary key (server, host)
);

-- Which manifest revision a run was taken under, and the runs an agent missed while it was down.
alter table pgbackman.backup_runs add column revision text;
alter table pgbackman.backup_runs add column missed jsonb;
alter table pgbackman.backup_runs drop constraint backup_runs_status_check;
alter table pgbackman.backup_runs
  add constraint backup_runs_status_check check (status in ('RUNNING', 'SUCCEEDED', 'FAILED', 'MISSED'));

grant select on pgbackman.agents to pgbackman_ro, pgbackman_rw;
grant insert, update, delete on pgbackman.agents to pgbackman_rw;
