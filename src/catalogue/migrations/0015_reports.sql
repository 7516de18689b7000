-- Reports (`stats`, `history`, filtered `get backups`) answered from small tables and indexes on a catalogue
-- of 1,000,000 runs.

-- The dumps that are there (deletion is null), counted per server, node and status: what `stats` sums
-- instead of reading every run. Each statement that writes backup_runs appends one row per group it changed
-- (a delta: inserts only, so writers never wait on each other or deadlock); the agent merges them now and
-- then (`compactRunTallies`), keeping the table to about one row per group.
create table pgbackman.run_tallies (
  server text not null,
  node text not null,
  status text not null,
  dumps bigint not null,
  bytes numeric not null,
  hash_verified bigint not null,
  restore_tested bigint not null
);
create index run_tallies_group on pgbackman.run_tallies (server, node, status);

-- Each statement that writes runs appends what it took from the kept dumps (-1) and gave them (+1) per group.
-- An update that changes nothing counted (a pin, a copy's outcome) appends nothing.
create function pgbackman.tally_inserted_runs() returns trigger language plpgsql as $$
begin
  insert into pgbackman.run_tallies (server, node, status, dumps, bytes, hash_verified, restore_tested)
  select server, node, status, sum(sign), coalesce(sum(sign * dump_bytes), 0),
         count(*) filter (where verify_status = 'OK' and sign > 0) - count(*) filter (where verify_status = 'OK' and sign < 0),
         count(*) filter (where restore_verify_status = 'VERIFIED' and sign > 0)
           - count(*) filter (where restore_verify_status = 'VERIFIED' and sign < 0)
    from (
      select 1 as sign, server, node, status, dump_bytes, verify_status, restore_verify_status from new_runs where deletion is null
    ) as changed
   group by server, node, status
  having sum(sign) <> 0 or coalesce(sum(sign * dump_bytes), 0) <> 0
      or count(*) filter (where verify_status = 'OK' and sign > 0) <> count(*) filter (where verify_status = 'OK' and sign < 0)
      or count(*) filter (where restore_verify_status = 'VERIFIED' and sign > 0)
         <> count(*) filter (where restore_verify_status = 'VERIFIED' and sign < 0);
  return null;
end
$$;
create trigger tally_inserted_runs after insert on pgbackman.backup_runs
  referencing new table as new_runs for each statement execute function pgbackman.tally_inserted_runs();
create function pgbackman.tally_updated_runs() returns trigger language plpgsql as $$
begin
  insert into pgbackman.run_tallies (server, node, status, dumps, bytes, hash_verified, restore_tested)
  select server, node, status, sum(sign), coalesce(sum(sign * dump_bytes), 0),
         count(*) filter (where verify_status = 'OK' and sign > 0) - count(*) filter (where verify_status = 'OK' and sign < 0),
         count(*) filter (where restore_verify_status = 'VERIFIED' and sign > 0)
           - count(*) filter (where restore_verify_status = 'VERIFIED' and sign < 0)
    from (
      select -1 as sign, server, node, status, dump_bytes, verify_status, restore_verify_status from old_runs where deletion is null
      union all
      select 1 as sign, server, node, status, dump_bytes, verify_status, restore_verify_status from new_runs where deletion is null
    ) as changed
   group by server, node, status
  having sum(sign) <> 0 or coalesce(sum(sign * dump_bytes), 0) <> 0
      or count(*) filter (where verify_status = 'OK' and sign > 0) <> count(*) filter (where verify_status = 'OK' and sign < 0)
      or count(*) filter (where restore_verify_status = 'VERIFIED' and sign > 0)
         <> count(*) filter (where restore_verify_status = 'VERIFIED' and sign < 0);
  return null;
end
$$;
create trigger tally_updated_runs after update on pgbackman.backup_runs
  referencing old table as old_runs new table as new_runs for each statement execute function pgbackman.tally_updated_runs();
create function pgbackman.tally_deleted_runs() returns trigger language plpgsql as $$
begin
  insert into pgbackman.run_tallies (server, node, status, dumps, bytes, hash_verified, restore_tested)
  select server, node, status, sum(sign), coalesce(sum(sign * dump_bytes), 0),
         count(*) filter (where verify_status = 'OK' and sign > 0) - count(*) filter (where verify_status = 'OK' and sign < 0),
         count(*) filter (where restore_verify_status = 'VERIFIED' and sign > 0)
           - count(*) filter (where restore_verify_status = 'VERIFIED' and sign < 0)
    from (
      select -1 as sign, server, node, status, dump_bytes, verify_status, restore_verify_status from old_runs where deletion is null
    ) as changed
   group by server, node, status
  having sum(sign) <> 0 or coalesce(sum(sign * dump_bytes), 0) <> 0
      or count(*) filter (where verify_status = 'OK' and sign > 0) <> count(*) filter (where verify_status = 'OK' and sign < 0)
      or count(*) filter (where restore_verify_status = 'VERIFIED' and sign > 0)
         <> count(*) filter (where restore_verify_status = 'VERIFIED' and sign < 0);
  return null;
end
$$;
create trigger tally_deleted_runs after delete on pgbackman.backup_runs
  referencing old table as old_runs for each statement execute function pgbackman.tally_deleted_runs();

-- The runs already there.
insert into pgbackman.run_tallies (server, node, status, dumps, bytes, hash_verified, restore_tested)
select server, node, status, count(*), coalesce(sum(dump_bytes), 0), count(*) filter (where verify_status = 'OK'),
       count(*) filter (where restore_verify_status = 'VERIFIED')
  from pgbackman.backup_runs where deletion is null group by server, node, status;

-- stats' oldest and newest good dump of each server and node: two probes each.
create index backup_runs_good_started on pgbackman.backup_runs (server, node, started_at)
  where deletion is null and status in ('SUCCEEDED', 'SUCCEEDED_PARTIAL');
-- stats' failures in 24 h and 7 d; get backups --status S, newest first.
create index backup_runs_status_started on pgbackman.backup_runs (status, started_at desc);
-- get backups (and history runs) newest first with no filter, or only --since; --node alone.
create index backup_runs_started on pgbackman.backup_runs (started_at desc);
create index backup_runs_node_started on pgbackman.backup_runs (node, started_at desc);
-- --database (with or without --server), and --verify RESULT (rare results: no walk through every run).
create index backup_runs_database_started on pgbackman.backup_runs (database, started_at desc);
create index backup_runs_verify_started on pgbackman.backup_runs (verify_status, started_at desc)
  where verify_status is not null;

-- history: the commit each apply came from, as git tells it (author and subject), when there was one.
alter table pgbackman.apply_history
  add column commit_author text,
  add column commit_subject text;

grant select on pgbackman.run_tallies to pgbackman_ro, pgbackman_rw;
grant insert, update, delete on pgbackman.run_tallies to pgbackman_rw;
