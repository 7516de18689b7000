-- Retention: a dump can be pinned (retention never deletes it: who, when and why are kept), and a deletion
-- is recorded step by step, DELETING before its files are removed and DELETED after, so a sweep that dies
-- in between is finished by the next one and a dump whose files may be gone is never shown as available.
-- The run's own status (SUCCEEDED, FAILED, MISSED) stays as history.
alter table pgbackman.backup_runs
  add column pinned_at timestamptz,
  add column pinned_by text,
  add column pin_reason text,
  add column deletion text check (deletion in ('DELETING', 'DELETED')),
  add column deleted_reason text;
update pgbackman.backup_runs set deletion = 'DELETED' where deleted_at is not null;
-- A pinned dump is not being deleted, and a deleted one is not pinned.
alter table pgbackman.backup_runs
  add constraint backup_runs_pin_or_delete check (pinned_at is null or deletion is null);
