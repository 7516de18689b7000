-- Restore tests: the rows each table held (the planner's estimate) when the dump was taken, and the result of
-- the last restore of the dump into a scratch database (VERIFIED, or VERIFY_FAILED with what did not hold).
alter table pgbackman.backup_runs
  add column table_estimates jsonb,
  add column restore_verified_at timestamptz,
  add column restore_verify_status text check (restore_verify_status in ('VERIFIED', 'VERIFY_FAILED')),
  add column restore_verify_details jsonb;
