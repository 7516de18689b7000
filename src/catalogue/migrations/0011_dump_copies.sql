-- Each copy of a successful dump kept beyond the root directory (BackupServer.spec.storage[1..]): where it
-- went, what arrived (each file's size, sha256 and the store's ETag or version) or why it did not; DELETED
-- once retention removed its files there.
create table pgbackman.dump_copies (
  run_id uuid not null references pgbackman.backup_runs (id) on delete cascade,
  destination text not null,
  kind text not null check (kind in ('local', 's3')),
  location text not null,
  status text not null check (status in ('COPIED', 'FAILED', 'DELETED')),
  bytes bigint,
  files jsonb,
  error text,
  finished_at timestamptz not null,
  primary key (run_id, destination)
);

grant select on pgbackman.dump_copies to pgbackman_ro, pgbackman_rw;
grant insert, update, delete on pgbackman.dump_copies to pgbackman_rw;

-- A dump that is in the root directory but missing from a further destination is SUCCEEDED_PARTIAL: as good
-- as SUCCEEDED for restores, retention and verify; SUCCEEDED again once every copy is made.
alter table pgbackman.backup_runs drop constraint backup_runs_status_check;
alter table pgbackman.backup_runs add constraint backup_runs_status_check
  check (status in ('RUNNING', 'SUCCEEDED', 'SUCCEEDED_PARTIAL', 'FAILED', 'MISSED'));
