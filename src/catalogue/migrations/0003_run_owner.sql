-- Which process on which host is taking a RUNNING dump: only that host may decide the process is gone
-- and close the run as interrupted.
alter table pgbackman.backup_runs
  add column host text,
  add column pid integer;
