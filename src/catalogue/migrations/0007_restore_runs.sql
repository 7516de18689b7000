-- Every restore is a run of its own: which dump went where, with which options, what was done to the target
-- (the steps, and the name an existing database was renamed to), and how it ended.
create table pgbackman.restore_runs (
  id uuid primary key,
  backup_id uuid, -- null when a RestoreDefinition found no dump to restore (recorded FAILED)
  restore_definition text,
  -- The RestoreDefinition's generation: the agent restores each generation once.
  restore_generation bigint,
  server text not null,
  source_node text not null,
  source_database text,
  target_node text not null,
  target_database text not null,
  options jsonb not null,
  status text not null check (status in ('RUNNING', 'SUCCEEDED', 'FAILED')),
  started_at timestamptz not null,
  finished_at timestamptz,
  duration_ms bigint,
  steps jsonb,
  renamed_to text,
  log_path text,
  error text,
  requested_by text,
  host text not null,
  pid integer not null
);
create index on pgbackman.restore_runs (started_at desc);
create index on pgbackman.restore_runs (backup_id);
grant select on pgbackman.restore_runs to pgbackman_ro, pgbackman_rw;
grant insert, update, delete on pgbackman.restore_runs to pgbackman_rw;
