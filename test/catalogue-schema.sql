CREATE SCHEMA pgbackman;
CREATE FUNCTION pgbackman.tally_deleted_runs() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
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
CREATE FUNCTION pgbackman.tally_inserted_runs() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
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
CREATE FUNCTION pgbackman.tally_updated_runs() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
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
CREATE TABLE pgbackman.agents (
    server text NOT NULL,
    host text NOT NULL,
    pid integer NOT NULL,
    version text NOT NULL,
    started_at timestamp with time zone NOT NULL,
    heartbeat_at timestamp with time zone NOT NULL,
    interval_ms bigint NOT NULL,
    source text,
    last_applied_revision text,
    last_attempted_revision text,
    conditions jsonb DEFAULT '[]'::jsonb NOT NULL,
    reconcile_requested text,
    reconcile_handled text
);
CREATE TABLE pgbackman.alert_messages (
    id bigint NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    server text NOT NULL,
    event text NOT NULL,
    definition text NOT NULL,
    run_id uuid,
    channel text NOT NULL,
    target text NOT NULL,
    format text,
    secret_from jsonb,
    payload jsonb NOT NULL,
    status text DEFAULT 'PENDING'::text NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    next_attempt_at timestamp with time zone DEFAULT now() NOT NULL,
    sent_at timestamp with time zone,
    last_error text,
    CONSTRAINT alert_messages_channel_check CHECK ((channel = ANY (ARRAY['email'::text, 'webhook'::text]))),
    CONSTRAINT alert_messages_event_check CHECK ((event = ANY (ARRAY['failed'::text, 'recovered'::text, 'verify_failed'::text, 'restore_failed'::text, 'missed'::text, 'overdue'::text, 'retention_blocked'::text, 'disk_low'::text]))),
    CONSTRAINT alert_messages_format_check CHECK ((format = ANY (ARRAY['json'::text, 'slack'::text]))),
    CONSTRAINT alert_messages_status_check CHECK ((status = ANY (ARRAY['PENDING'::text, 'SENT'::text, 'FAILED'::text])))
);
ALTER TABLE pgbackman.alert_messages ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME pgbackman.alert_messages_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE pgbackman.apply_history (
    serial bigint NOT NULL,
    lineage uuid NOT NULL,
    applied_at timestamp with time zone DEFAULT now() NOT NULL,
    applied_by text NOT NULL,
    revision text,
    summary jsonb NOT NULL,
    changes jsonb NOT NULL,
    commit_author text,
    commit_subject text
);
CREATE TABLE pgbackman.backup_definitions (
    name text NOT NULL,
    spec jsonb NOT NULL,
    labels jsonb DEFAULT '{}'::jsonb NOT NULL,
    annotations jsonb DEFAULT '{}'::jsonb NOT NULL,
    spec_hash text NOT NULL,
    generation bigint DEFAULT 1 NOT NULL,
    source_file text,
    source_revision text,
    managed boolean DEFAULT true NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    server text NOT NULL,
    node text NOT NULL,
    database text,
    applied_serial bigint DEFAULT 0 NOT NULL
);
CREATE TABLE pgbackman.backup_policies (
    name text NOT NULL,
    spec jsonb NOT NULL,
    labels jsonb DEFAULT '{}'::jsonb NOT NULL,
    annotations jsonb DEFAULT '{}'::jsonb NOT NULL,
    spec_hash text NOT NULL,
    generation bigint DEFAULT 1 NOT NULL,
    source_file text,
    source_revision text,
    managed boolean DEFAULT true NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    server text NOT NULL,
    applied_serial bigint DEFAULT 0 NOT NULL
);
CREATE TABLE pgbackman.backup_runs (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    server text NOT NULL,
    node text NOT NULL,
    database text,
    code text NOT NULL,
    definition text,
    snapshot text,
    status text NOT NULL,
    started_at timestamp with time zone NOT NULL,
    finished_at timestamp with time zone,
    duration_ms bigint,
    dump_bytes bigint,
    dump_path text,
    log_path text,
    roles_path text,
    config_path text,
    sha256 jsonb,
    pg_dump_version text,
    server_version text,
    database_bytes bigint,
    retention jsonb,
    error text,
    deleted_at timestamp with time zone,
    verified_at timestamp with time zone,
    verify_status text,
    verify_error text,
    host text,
    pid integer,
    revision text,
    missed jsonb,
    pinned_at timestamp with time zone,
    pinned_by text,
    pin_reason text,
    deletion text,
    deleted_reason text,
    table_estimates jsonb,
    source_system_identifier text,
    restore_verified_at timestamp with time zone,
    restore_verify_status text,
    restore_verify_details jsonb,
    encryption jsonb,
    root_copy text DEFAULT 'KEPT'::text NOT NULL,
    CONSTRAINT backup_runs_check CHECK (((definition IS NULL) <> (snapshot IS NULL))),
    CONSTRAINT backup_runs_code_check CHECK ((code = ANY (ARRAY['CLUSTER'::text, 'FULL'::text, 'SCHEMA'::text, 'DATA'::text]))),
    CONSTRAINT backup_runs_deletion_check CHECK ((deletion = ANY (ARRAY['DELETING'::text, 'DELETED'::text]))),
    CONSTRAINT backup_runs_pin_or_delete CHECK (((pinned_at IS NULL) OR (deletion IS NULL))),
    CONSTRAINT backup_runs_restore_verify_status_check CHECK ((restore_verify_status = ANY (ARRAY['VERIFIED'::text, 'VERIFY_FAILED'::text]))),
    CONSTRAINT backup_runs_root_copy_check CHECK ((root_copy = ANY (ARRAY['KEPT'::text, 'RELEASING'::text, 'RELEASED'::text]))),
    CONSTRAINT backup_runs_status_check CHECK ((status = ANY (ARRAY['RUNNING'::text, 'SUCCEEDED'::text, 'SUCCEEDED_PARTIAL'::text, 'FAILED'::text, 'MISSED'::text]))),
    CONSTRAINT backup_runs_verify_status_check CHECK ((verify_status = ANY (ARRAY['OK'::text, 'CORRUPT'::text, 'MISSING'::text])))
);
CREATE TABLE pgbackman.backup_servers (
    name text NOT NULL,
    spec jsonb NOT NULL,
    labels jsonb DEFAULT '{}'::jsonb NOT NULL,
    annotations jsonb DEFAULT '{}'::jsonb NOT NULL,
    spec_hash text NOT NULL,
    generation bigint DEFAULT 1 NOT NULL,
    source_file text,
    source_revision text,
    managed boolean DEFAULT true NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    applied_serial bigint DEFAULT 0 NOT NULL
);
CREATE TABLE pgbackman.catalogue (
    singleton boolean DEFAULT true NOT NULL,
    lineage uuid NOT NULL,
    serial bigint DEFAULT 0 NOT NULL,
    last_apply_at timestamp with time zone,
    CONSTRAINT catalogue_singleton_check CHECK (singleton)
);
CREATE TABLE pgbackman.dump_copies (
    run_id uuid NOT NULL,
    destination text NOT NULL,
    kind text NOT NULL,
    location text NOT NULL,
    status text NOT NULL,
    bytes bigint,
    files jsonb,
    error text,
    finished_at timestamp with time zone NOT NULL,
    CONSTRAINT dump_copies_kind_check CHECK ((kind = ANY (ARRAY['local'::text, 's3'::text]))),
    CONSTRAINT dump_copies_status_check CHECK ((status = ANY (ARRAY['COPIED'::text, 'FAILED'::text, 'DELETED'::text])))
);
CREATE TABLE pgbackman.migrations (
    id integer NOT NULL,
    name text NOT NULL,
    applied_at timestamp with time zone DEFAULT now() NOT NULL
);
CREATE TABLE pgbackman.pgsql_nodes (
    name text NOT NULL,
    spec jsonb NOT NULL,
    labels jsonb DEFAULT '{}'::jsonb NOT NULL,
    annotations jsonb DEFAULT '{}'::jsonb NOT NULL,
    spec_hash text NOT NULL,
    generation bigint DEFAULT 1 NOT NULL,
    source_file text,
    source_revision text,
    managed boolean DEFAULT true NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    applied_serial bigint DEFAULT 0 NOT NULL
);
CREATE TABLE pgbackman.restore_definitions (
    name text NOT NULL,
    spec jsonb NOT NULL,
    labels jsonb DEFAULT '{}'::jsonb NOT NULL,
    annotations jsonb DEFAULT '{}'::jsonb NOT NULL,
    spec_hash text NOT NULL,
    generation bigint DEFAULT 1 NOT NULL,
    source_file text,
    source_revision text,
    managed boolean DEFAULT true NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    server text,
    target_node text NOT NULL,
    applied_serial bigint DEFAULT 0 NOT NULL
);
CREATE TABLE pgbackman.restore_runs (
    id uuid NOT NULL,
    backup_id uuid,
    restore_definition text,
    restore_generation bigint,
    server text NOT NULL,
    source_node text NOT NULL,
    source_database text,
    target_node text NOT NULL,
    target_database text NOT NULL,
    options jsonb NOT NULL,
    status text NOT NULL,
    started_at timestamp with time zone NOT NULL,
    finished_at timestamp with time zone,
    duration_ms bigint,
    steps jsonb,
    renamed_to text,
    log_path text,
    error text,
    requested_by text,
    host text NOT NULL,
    pid integer NOT NULL,
    CONSTRAINT restore_runs_status_check CHECK ((status = ANY (ARRAY['RUNNING'::text, 'SUCCEEDED'::text, 'FAILED'::text])))
);
CREATE TABLE pgbackman.run_tallies (
    server text NOT NULL,
    node text NOT NULL,
    status text NOT NULL,
    dumps bigint NOT NULL,
    bytes numeric NOT NULL,
    hash_verified bigint NOT NULL,
    restore_tested bigint NOT NULL
);
CREATE TABLE pgbackman.snapshot_definitions (
    name text NOT NULL,
    spec jsonb NOT NULL,
    labels jsonb DEFAULT '{}'::jsonb NOT NULL,
    annotations jsonb DEFAULT '{}'::jsonb NOT NULL,
    spec_hash text NOT NULL,
    generation bigint DEFAULT 1 NOT NULL,
    source_file text,
    source_revision text,
    managed boolean DEFAULT true NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    server text NOT NULL,
    node text NOT NULL,
    database text,
    applied_serial bigint DEFAULT 0 NOT NULL
);
ALTER TABLE ONLY pgbackman.agents
    ADD CONSTRAINT agents_pkey PRIMARY KEY (server, host);
ALTER TABLE ONLY pgbackman.alert_messages
    ADD CONSTRAINT alert_messages_pkey PRIMARY KEY (id);
ALTER TABLE ONLY pgbackman.apply_history
    ADD CONSTRAINT apply_history_pkey PRIMARY KEY (serial);
ALTER TABLE ONLY pgbackman.backup_definitions
    ADD CONSTRAINT backup_definitions_pkey PRIMARY KEY (name);
ALTER TABLE ONLY pgbackman.backup_policies
    ADD CONSTRAINT backup_policies_pkey PRIMARY KEY (name);
ALTER TABLE ONLY pgbackman.backup_runs
    ADD CONSTRAINT backup_runs_pkey PRIMARY KEY (id);
ALTER TABLE ONLY pgbackman.backup_servers
    ADD CONSTRAINT backup_servers_pkey PRIMARY KEY (name);
ALTER TABLE ONLY pgbackman.catalogue
    ADD CONSTRAINT catalogue_pkey PRIMARY KEY (singleton);
ALTER TABLE ONLY pgbackman.dump_copies
    ADD CONSTRAINT dump_copies_pkey PRIMARY KEY (run_id, destination);
ALTER TABLE ONLY pgbackman.migrations
    ADD CONSTRAINT migrations_pkey PRIMARY KEY (id);
ALTER TABLE ONLY pgbackman.pgsql_nodes
    ADD CONSTRAINT pgsql_nodes_pkey PRIMARY KEY (name);
ALTER TABLE ONLY pgbackman.restore_definitions
    ADD CONSTRAINT restore_definitions_pkey PRIMARY KEY (name);
ALTER TABLE ONLY pgbackman.restore_runs
    ADD CONSTRAINT restore_runs_pkey PRIMARY KEY (id);
ALTER TABLE ONLY pgbackman.snapshot_definitions
    ADD CONSTRAINT snapshot_definitions_pkey PRIMARY KEY (name);
CREATE INDEX alert_messages_due ON pgbackman.alert_messages USING btree (server, next_attempt_at) WHERE (status = 'PENDING'::text);
CREATE INDEX alert_messages_last ON pgbackman.alert_messages USING btree (definition, event, channel, target, created_at DESC);
CREATE INDEX backup_definitions_server_applied_serial_idx ON pgbackman.backup_definitions USING btree (server, applied_serial);
CREATE INDEX backup_definitions_server_idx ON pgbackman.backup_definitions USING btree (server);
CREATE INDEX backup_runs_database_started ON pgbackman.backup_runs USING btree (database, started_at DESC);
CREATE INDEX backup_runs_definition_started_at_idx ON pgbackman.backup_runs USING btree (definition, started_at DESC);
CREATE INDEX backup_runs_good_started ON pgbackman.backup_runs USING btree (server, node, started_at) WHERE ((deletion IS NULL) AND (status = ANY (ARRAY['SUCCEEDED'::text, 'SUCCEEDED_PARTIAL'::text])));
CREATE INDEX backup_runs_live_definition ON pgbackman.backup_runs USING btree (definition, server) WHERE (deletion IS DISTINCT FROM 'DELETED'::text);
CREATE INDEX backup_runs_live_snapshot ON pgbackman.backup_runs USING btree (snapshot, server) WHERE (deletion IS DISTINCT FROM 'DELETED'::text);
CREATE INDEX backup_runs_node_started ON pgbackman.backup_runs USING btree (node, started_at DESC);
CREATE INDEX backup_runs_root_releasing ON pgbackman.backup_runs USING btree (server) WHERE (root_copy = 'RELEASING'::text);
CREATE INDEX backup_runs_server_node_database_started_at_idx ON pgbackman.backup_runs USING btree (server, node, database, started_at DESC);
CREATE INDEX backup_runs_snapshot_started_at_idx ON pgbackman.backup_runs USING btree (snapshot, started_at DESC);
CREATE INDEX backup_runs_started ON pgbackman.backup_runs USING btree (started_at DESC);
CREATE INDEX backup_runs_status_started ON pgbackman.backup_runs USING btree (status, started_at DESC);
CREATE INDEX backup_runs_verify_started ON pgbackman.backup_runs USING btree (verify_status, started_at DESC) WHERE (verify_status IS NOT NULL);
CREATE INDEX restore_runs_backup_id_idx ON pgbackman.restore_runs USING btree (backup_id);
CREATE INDEX restore_runs_started_at_idx ON pgbackman.restore_runs USING btree (started_at DESC);
CREATE INDEX run_tallies_group ON pgbackman.run_tallies USING btree (server, node, status);
CREATE INDEX snapshot_definitions_server_applied_serial_idx ON pgbackman.snapshot_definitions USING btree (server, applied_serial);
CREATE INDEX snapshot_definitions_server_idx ON pgbackman.snapshot_definitions USING btree (server);
CREATE TRIGGER tally_deleted_runs AFTER DELETE ON pgbackman.backup_runs REFERENCING OLD TABLE AS old_runs FOR EACH STATEMENT EXECUTE FUNCTION pgbackman.tally_deleted_runs();
CREATE TRIGGER tally_inserted_runs AFTER INSERT ON pgbackman.backup_runs REFERENCING NEW TABLE AS new_runs FOR EACH STATEMENT EXECUTE FUNCTION pgbackman.tally_inserted_runs();
CREATE TRIGGER tally_updated_runs AFTER UPDATE ON pgbackman.backup_runs REFERENCING OLD TABLE AS old_runs NEW TABLE AS new_runs FOR EACH STATEMENT EXECUTE FUNCTION pgbackman.tally_updated_runs();
ALTER TABLE ONLY pgbackman.backup_definitions
    ADD CONSTRAINT backup_definitions_node_fkey FOREIGN KEY (node) REFERENCES pgbackman.pgsql_nodes(name) ON UPDATE CASCADE;
ALTER TABLE ONLY pgbackman.backup_definitions
    ADD CONSTRAINT backup_definitions_server_fkey FOREIGN KEY (server) REFERENCES pgbackman.backup_servers(name) ON UPDATE CASCADE;
ALTER TABLE ONLY pgbackman.backup_policies
    ADD CONSTRAINT backup_policies_server_fkey FOREIGN KEY (server) REFERENCES pgbackman.backup_servers(name) ON UPDATE CASCADE;
ALTER TABLE ONLY pgbackman.dump_copies
    ADD CONSTRAINT dump_copies_run_id_fkey FOREIGN KEY (run_id) REFERENCES pgbackman.backup_runs(id) ON DELETE CASCADE;
ALTER TABLE ONLY pgbackman.restore_definitions
    ADD CONSTRAINT restore_definitions_server_fkey FOREIGN KEY (server) REFERENCES pgbackman.backup_servers(name) ON UPDATE CASCADE;
ALTER TABLE ONLY pgbackman.restore_definitions
    ADD CONSTRAINT restore_definitions_target_node_fkey FOREIGN KEY (target_node) REFERENCES pgbackman.pgsql_nodes(name) ON UPDATE CASCADE;
ALTER TABLE ONLY pgbackman.snapshot_definitions
    ADD CONSTRAINT snapshot_definitions_node_fkey FOREIGN KEY (node) REFERENCES pgbackman.pgsql_nodes(name) ON UPDATE CASCADE;
ALTER TABLE ONLY pgbackman.snapshot_definitions
    ADD CONSTRAINT snapshot_definitions_server_fkey FOREIGN KEY (server) REFERENCES pgbackman.backup_servers(name) ON UPDATE CASCADE;
GRANT USAGE ON SCHEMA pgbackman TO pgbackman_rw;
GRANT USAGE ON SCHEMA pgbackman TO pgbackman_ro;
GRANT SELECT ON TABLE pgbackman.agents TO pgbackman_ro;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE pgbackman.agents TO pgbackman_rw;
GRANT SELECT ON TABLE pgbackman.alert_messages TO pgbackman_ro;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE pgbackman.alert_messages TO pgbackman_rw;
GRANT SELECT ON TABLE pgbackman.apply_history TO pgbackman_ro;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE pgbackman.apply_history TO pgbackman_rw;
GRANT SELECT ON TABLE pgbackman.backup_definitions TO pgbackman_ro;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE pgbackman.backup_definitions TO pgbackman_rw;
GRANT SELECT ON TABLE pgbackman.backup_policies TO pgbackman_ro;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE pgbackman.backup_policies TO pgbackman_rw;
GRANT SELECT ON TABLE pgbackman.backup_runs TO pgbackman_ro;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE pgbackman.backup_runs TO pgbackman_rw;
GRANT SELECT ON TABLE pgbackman.backup_servers TO pgbackman_ro;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE pgbackman.backup_servers TO pgbackman_rw;
GRANT SELECT ON TABLE pgbackman.catalogue TO pgbackman_ro;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE pgbackman.catalogue TO pgbackman_rw;
GRANT SELECT ON TABLE pgbackman.dump_copies TO pgbackman_ro;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE pgbackman.dump_copies TO pgbackman_rw;
GRANT SELECT ON TABLE pgbackman.migrations TO pgbackman_ro;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE pgbackman.migrations TO pgbackman_rw;
GRANT SELECT ON TABLE pgbackman.pgsql_nodes TO pgbackman_ro;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE pgbackman.pgsql_nodes TO pgbackman_rw;
GRANT SELECT ON TABLE pgbackman.restore_definitions TO pgbackman_ro;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE pgbackman.restore_definitions TO pgbackman_rw;
GRANT SELECT ON TABLE pgbackman.restore_runs TO pgbackman_ro;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE pgbackman.restore_runs TO pgbackman_rw;
GRANT SELECT ON TABLE pgbackman.run_tallies TO pgbackman_ro;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE pgbackman.run_tallies TO pgbackman_rw;
GRANT SELECT ON TABLE pgbackman.snapshot_definitions TO pgbackman_ro;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE pgbackman.snapshot_definitions TO pgbackman_rw;
