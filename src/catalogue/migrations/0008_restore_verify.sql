-- Which cluster a dump came from (pg_control's system identifier), so a restore never drops its own source
-- whatever name or address the target is given. Restore tests: the rows each table held (the planner's estimate) when the dump was taken, and the result of
-- the last restore of the dump into a scratch database (VERIFIED, or VERIFY_FAILED with what did not hold).
alter table pgbackman.backup_runs
  add column table_estimates jsonb,
  add column source_system_identifier text,
  add column restore_verified_at timestamptz,
  add column restore_verify_status text check (restore_verify_status in ('VERIFIED', 'VERIFY_FAILED')),
  add column restore_verify_details jsonb;
