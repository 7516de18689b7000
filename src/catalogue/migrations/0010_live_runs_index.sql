-- The runs not yet deleted, by definition (and by snapshot) and server: a retention plan counts each
-- group's live runs from these alone, without reading the table, however many deleted runs its history
-- keeps (an exact count read the whole table: 0.5 s for a million runs; these answer in 0.08 s).
create index backup_runs_live_definition on pgbackman.backup_runs (definition, server)
  where deletion is distinct from 'DELETED';
create index backup_runs_live_snapshot on pgbackman.backup_runs (snapshot, server)
  where deletion is distinct from 'DELETED';
