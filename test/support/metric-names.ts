// The metric names and types other tools rely on (dashboards, alerts): a contract the tests hold.
export const METRIC_TYPES: Record<string, string> = {
  pgbackman_build_info: 'gauge',
  pgbackman_backup_last_success_timestamp_seconds: 'gauge',
  pgbackman_backup_duration_seconds: 'histogram',
  pgbackman_backup_bytes: 'gauge',
  pgbackman_backup_failures_total: 'counter',
  pgbackman_backups_running: 'gauge',
  pgbackman_queue_depth: 'gauge',
  pgbackman_spool_records: 'gauge',
  pgbackman_catalogue_up: 'gauge',
  pgbackman_reconcile_last_success_timestamp_seconds: 'gauge',
  pgbackman_reconcile_condition: 'gauge',
  pgbackman_source_revision_info: 'gauge',
  pgbackman_upload_bytes_total: 'counter',
  pgbackman_copy_failures_total: 'counter',
  pgbackman_alerts_total: 'counter',
};
