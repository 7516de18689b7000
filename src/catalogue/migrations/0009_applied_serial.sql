-- The apply serial that last wrote each object: an agent rescheduling after an apply asks only for the
-- definitions written since the serial it last read (and counts the rest), not for all 20,000 of them.
alter table pgbackman.backup_servers add column applied_serial bigint not null default 0;
alter table pgbackman.pgsql_nodes add column applied_serial bigint not null default 0;
alter table pgbackman.backup_policies add column applied_serial bigint not null default 0;
alter table pgbackman.backup_definitions add column applied_serial bigint not null default 0;
alter table pgbackman.snapshot_definitions add column applied_serial bigint not null default 0;
alter table pgbackman.restore_definitions add column applied_serial bigint not null default 0;
create index on pgbackman.backup_definitions (server, applied_serial);
create index on pgbackman.snapshot_definitions (server, applied_serial);
