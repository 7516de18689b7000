-- Messages about runs (failed, recovered) to the people and webhooks a manifest's notify names: queued here
-- when the run ends, so a channel that is down, or an agent that restarts, delays a message but loses none.
-- target is an address or a URL, never a secret; secret_from says where a webhook's signing key is read
-- (an environment variable's or a file's name), as the manifest said it.
create table pgbackman.alert_messages (
  id bigint generated always as identity primary key,
  created_at timestamptz not null default now(),
  server text not null,
  event text not null check (event in ('failed', 'recovered', 'verify_failed', 'restore_failed', 'missed',
    'overdue', 'retention_blocked', 'disk_low')),
  definition text not null,
  run_id uuid,
  channel text not null check (channel in ('email', 'webhook')),
  target text not null,
  format text check (format in ('json', 'slack')),
  secret_from jsonb,
  payload jsonb not null,
  status text not null default 'PENDING' check (status in ('PENDING', 'SENT', 'FAILED')),
  attempts integer not null default 0,
  next_attempt_at timestamptz not null default now(),
  sent_at timestamptz,
  last_error text
);
-- What the sender claims: due, still pending, this server's.
create index alert_messages_due on pgbackman.alert_messages (server, next_attempt_at) where status = 'PENDING';
-- The rate limit's question: the last message of this event about this definition to this recipient.
create index alert_messages_last on pgbackman.alert_messages (definition, event, channel, target, created_at desc);

grant select on pgbackman.alert_messages to pgbackman_ro, pgbackman_rw;
grant insert, update, delete on pgbackman.alert_messages to pgbackman_rw;
