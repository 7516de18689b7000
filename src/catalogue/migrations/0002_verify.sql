-- The result of the last `pgbackman verify` of each dump.
alter table pgbackman.backup_runs
  add column verified_at timestamptz,
  add column verify_status text check (verify_status in ('OK', 'CORRUPT', 'MISSING')),
  add column verify_error text;
