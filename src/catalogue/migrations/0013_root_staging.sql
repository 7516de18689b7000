-- A dump whose storage list starts with a bucket is only staged in the root directory: once every destination
-- it is owed to holds it, its folder there is removed. RELEASING from the moment that removal may start (a
-- process that dies meanwhile leaves it for the next copy pass to finish), RELEASED once it is done.
alter table pgbackman.backup_runs add column root_copy text not null default 'KEPT'
  check (root_copy in ('KEPT', 'RELEASING', 'RELEASED'));
create index backup_runs_root_releasing on pgbackman.backup_runs (server) where root_copy = 'RELEASING';
