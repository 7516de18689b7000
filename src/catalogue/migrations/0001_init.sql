-- The catalogue: the desired state applied from manifests, and the history of every dump.
-- Runs inside one transaction, after `create schema pgbackman` and the migrations table exist.

-- One row: which catalogue this is (lineage) and how many applies it has seen (serial).
create table pgbackman.catalogue (
  singleton boolean primary key default true check (singleton),
  lineage uuid not null,
  serial bigint not null default 0,
  last_apply_at timestamptz
);
insert into pgbackman.catalogue (lineage) values (gen_random_uuid());

-- Columns every managed object has; each kind's table adds the references it needs as columns.
create table pgbackman.backup_servers (
  name text primary key,
  spec jsonb not null,
  labels jsonb not null default '{}',
  annotations jsonb not null default '{}',
  spec_hash text not null,
  generation bigint not null default 1,
  source_file text,
  source_revision text,
  managed boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table pgbackman.pgsql_nodes (like pgbackman.backup_servers including all);

create table pgbackman.backup_policies (
  like pgbackman.backup_servers including all,
  server text not null references pgbackman.backup_servers (name) on update cascade
);

create table pgbackman.backup_definitions (
  like pgbackman.backup_servers including all,
  server text not null references pgbackman.backup_servers (name) on update cascade,
  node text not null references pgbackman.pgsql_nodes (name) on update cascade,
  database text
);
create index on pgbackman.backup_definitions (server);

create table pgbackman.snapshot_definitions (
  like pgbackman.backup_servers including all,
  server text not null references pgbackman.backup_servers (name) on update cascade,
  node text not null references pgbackman.pgsql_nodes (name) on update cascade,
  database text
);
create index on pgbackman.snapshot_definitions (server);

create table pgbackman.restore_definitions (
  like pgbackman.backup_servers including all,
  server text references pgbackman.backup_servers (name) on update cascade,
  target_node text not null references pgbackman.pgsql_nodes (name) on update cascade
);

-- Every dump ever started. Definitions are referenced by name, not by foreign key: deleting a
-- definition must never delete or orphan its dumps, which age out under the retention recorded here.
create table pgbackman.backup_runs (
  id uuid primary key default gen_random_uuid(),
  server text not null,
  node text not null,
  database text,
  code text not null check (code in ('CLUSTER', 'FULL', 'SCHEMA', 'DATA')),
  definition text,
  snapshot text,
  status text not null check (status in ('RUNNING', 'SUCCEEDED', 'FAILED')),
  started_at timestamptz not null,
  finished_at timestamptz,
  duration_ms bigint,
  dump_bytes bigint,
  dump_path text,
  log_path text,
  roles_path text,
  config_path text,
  sha256 jsonb,
  pg_dump_version text,
  server_version text,
  database_bytes bigint,
  retention jsonb,
  error text,
  deleted_at timestamptz,
  check ((definition is null) <> (snapshot is null))
);
create index on pgbackman.backup_runs (server, node, database, started_at desc);
create index on pgbackman.backup_runs (definition, started_at desc);
create index on pgbackman.backup_runs (snapshot, started_at desc);

-- Every apply: who, when, from which revision, exactly what it did.
create table pgbackman.apply_history (
  serial bigint primary key,
  lineage uuid not null,
  applied_at timestamptz not null default now(),
  applied_by text not null,
  revision text,
  plan jsonb not null,
  summary jsonb not null
);

-- Agents and apply write; plan in CI only reads.
do $$
begin
  if not exists (select from pg_catalog.pg_roles where rolname = 'pgbackman_rw') then
    create role pgbackman_rw nologin;
  end if;
  if not exists (select from pg_catalog.pg_roles where rolname = 'pgbackman_ro') then
    create role pgbackman_ro nologin;
  end if;
end
$$;
grant usage on schema pgbackman to pgbackman_rw, pgbackman_ro;
grant select on all tables in schema pgbackman to pgbackman_ro, pgbackman_rw;
grant insert, update, delete on all tables in schema pgbackman to pgbackman_rw;
