// Generated from schemas/*.schema.json by scripts/build-schemas.ts. DO NOT EDIT.

export type Manifest =
  BackupServer | PgSQLNode | BackupPolicy | BackupDefinition | SnapshotDefinition | RestoreDefinition;
/**
 * The manifest format version.
 */
export type ApiVersion = 'pgbackman.io/v1';
/**
 * A lowercase DNS-1123 label: a-z, 0-9 and '-', starting and ending with a letter or digit, at most 63 characters.
 */
export type Name = string;
/**
 * Where dumps, logs and the spool are kept.
 */
export type AbsolutePath = string;
/**
 * An absolute file system path without '..' segments.
 */
export type AbsolutePath1 = string;
/**
 * A lowercase DNS-1123 label: a-z, 0-9 and '-', starting and ending with a letter or digit, at most 63 characters.
 */
export type Name1 = string;
/**
 * What is dumped. CLUSTER: pg_dumpall of the whole node. FULL: schema and data, large objects included. SCHEMA: schema only. DATA: data only.
 */
export type BackupCode = 'CLUSTER' | 'FULL' | 'SCHEMA' | 'DATA';
/**
 * The pg_dump output format. 'directory' can use parallel jobs. CLUSTER dumps are always plain SQL.
 */
export type Format = 'custom' | 'directory' | 'plain' | 'tar';
/**
 * Parallel pg_dump jobs (-j); only with format 'directory'.
 */
export type Jobs = number;
/**
 * pg_dump compression: a level 0-9, or 'gzip', 'lz4', 'zstd' or 'none' with an optional ':level' (the method needs pg_dump 16 or newer). Not used by format 'tar'.
 */
export type Compression = number | string;
/**
 * A duration made of whole numbers with units w (weeks), d (days), h (hours), m (minutes), e.g. '14d', '36h', '1w3d'.
 */
export type Duration = string;
/**
 * The N newest successful dumps.
 */
export type KeepCount = number;
/**
 * The newest dump of each of the last N hours that have one.
 */
export type KeepCount1 = number;
/**
 * The newest dump of each of the last N days that have one.
 */
export type KeepCount2 = number;
/**
 * The newest dump of each of the last N ISO weeks (Monday to Sunday) that have one.
 */
export type KeepCount3 = number;
/**
 * The newest dump of each of the last N months that have one.
 */
export type KeepCount4 = number;
/**
 * The newest dump of each of the last N years that have one.
 */
export type KeepCount5 = number;
/**
 * The IANA time zone the schedule is read in, e.g. 'Europe/Oslo'.
 */
export type Timezone = string;
/**
 * Extra pg_dump options, each one '--option' or '--option=value' from pgbackman's allow-list (e.g. '--exclude-table=audit.*', '--no-owner').
 *
 * @maxItems 64
 */
export type ExtraArgs = string[];
/**
 * Also dump the roles the database needs (owners and grantees), from pg_dumpall --roles-only. Turn off on managed services that forbid it.
 */
export type IncludeRoles = boolean;
/**
 * Also dump the database's configuration: CREATE DATABASE options, ALTER DATABASE/ROLE ... SET and database-level GRANTs.
 */
export type IncludeDatabaseConfig = boolean;
/**
 * The longest a dump may take, from its start to its files in place: whole numbers with units w, d, h, m or s, e.g. '6h', '90m'. Past it pg_dump is stopped (SIGTERM, then SIGKILL) and the run is recorded FAILED with code TIMEOUT, its files removed: a node that stops answering, or a lock pg_dump waits for, cannot hold the run (and every later one of the definition) forever.
 */
export type DumpTimeout = string;
/**
 * A note for people (PgBackMan's 'remarks').
 */
export type Description = string;
/**
 * When true, nothing new is scheduled for this object (PgBackMan's STOPPED status). Existing dumps are kept.
 */
export type Suspend = boolean;
/**
 * An absolute file system path without '..' segments.
 */
export type AbsolutePath2 = string;
/**
 * At most one message per definition, event and recipient within this interval, so a flapping job does not flood anyone; recovered is never held back.
 */
export type Duration1 = string;
/**
 * The name this object had before a rename, so the rename is planned as a move, not a delete and a create.
 */
export type PreviousName = string;
/**
 * The database pgbackman connects to for listing databases and roles.
 */
export type Database = string;
/**
 * An absolute file system path without '..' segments.
 */
export type AbsolutePath3 = string;
/**
 * An absolute file system path without '..' segments.
 */
export type AbsolutePath4 = string;
/**
 * A time of day, HH:MM (24-hour).
 */
export type ClockTime = string;
/**
 * A time of day, HH:MM (24-hour).
 */
export type ClockTime1 = string;
/**
 * Extra pg_dump options, each one '--option' or '--option=value' from pgbackman's allow-list (e.g. '--exclude-table=audit.*', '--no-owner').
 *
 * @maxItems 64
 */
export type ExtraArgs1 = string[];
/**
 * A lowercase DNS-1123 label: a-z, 0-9 and '-', starting and ending with a letter or digit, at most 63 characters.
 */
export type Name2 = string;
/**
 * When to run: a cron expression (5 fields, or 6 with seconds first) or 'auto', a stable time inside the node's backup window.
 */
export type Schedule = string;
/**
 * How long a generated definition is kept (suspended) after its database disappeared from the node, before it is removed. Its dumps keep their own retention.
 */
export type Duration2 = string;
/**
 * A lowercase DNS-1123 label: a-z, 0-9 and '-', starting and ending with a letter or digit, at most 63 characters.
 */
export type Name3 = string;
/**
 * A lowercase DNS-1123 label: a-z, 0-9 and '-', starting and ending with a letter or digit, at most 63 characters.
 */
export type Name4 = string;
/**
 * The database to dump; required unless code is CLUSTER, forbidden then.
 */
export type Database1 = string;
/**
 * A duration made of whole numbers with units w (weeks), d (days), h (hours), m (minutes), e.g. '14d', '36h', '1w3d'.
 */
export type Duration3 = string;
/**
 * A lowercase DNS-1123 label: a-z, 0-9 and '-', starting and ending with a letter or digit, at most 63 characters.
 */
export type Name5 = string;
/**
 * The longest a restore test may take (default 24h): past it the restore is stopped, the scratch database dropped and the test recorded VERIFY_FAILED.
 */
export type RestoreTimeout = string;
/**
 * A lowercase DNS-1123 label: a-z, 0-9 and '-', starting and ending with a letter or digit, at most 63 characters.
 */
export type Name6 = string;
/**
 * A lowercase DNS-1123 label: a-z, 0-9 and '-', starting and ending with a letter or digit, at most 63 characters.
 */
export type Name7 = string;
/**
 * The database to dump; required unless code is CLUSTER, forbidden then.
 */
export type Database2 = string;
/**
 * When to take the snapshot. One whose time passed while the agent was down is taken when it starts.
 */
export type IsoTime = string;
/**
 * A duration made of whole numbers with units w (weeks), d (days), h (hours), m (minutes), e.g. '14d', '36h', '1w3d'.
 */
export type Duration4 = string;
/**
 * A lowercase DNS-1123 label: a-z, 0-9 and '-', starting and ending with a letter or digit, at most 63 characters.
 */
export type Name8 = string;
/**
 * A lowercase DNS-1123 label: a-z, 0-9 and '-', starting and ending with a letter or digit, at most 63 characters.
 */
export type Name9 = string;
/**
 * With definition or snapshot: the newest successful dump that finished at or before this time.
 */
export type IsoTime1 = string;
/**
 * A lowercase DNS-1123 label: a-z, 0-9 and '-', starting and ending with a letter or digit, at most 63 characters.
 */
export type Name10 = string;
/**
 * The database to create; default: the dump's database name. Not for a CLUSTER dump: each of its databases keeps its own name.
 */
export type Database3 = string;
/**
 * A lowercase DNS-1123 label: a-z, 0-9 and '-', starting and ending with a letter or digit, at most 63 characters.
 */
export type Name11 = string;
/**
 * When to run the restore; default: as soon as it is applied.
 */
export type IsoTime2 = string;
/**
 * With existing: rename, the new name of the existing database; default '<database>_<UTC timestamp>' (always, for each database of a CLUSTER dump).
 */
export type Database4 = string;
/**
 * Extra pg_dump options, each one '--option' or '--option=value' from pgbackman's allow-list (e.g. '--exclude-table=audit.*', '--no-owner').
 *
 * @maxItems 64
 */
export type ExtraArgs2 = string[];
/**
 * The longest a restore may take: whole numbers with units w, d, h, m or s, e.g. '6h'. Past it pg_restore (or psql) is stopped (SIGTERM, then SIGKILL), the connection to the target dropped, and the restore recorded FAILED saying what the target holds: a target node that stops answering cannot hold the agent's restores forever.
 */
export type RestoreTimeout1 = string;

/**
 * A host that runs pgbackman agent, takes dumps and keeps them under its root directory.
 */
export interface BackupServer {
  apiVersion: ApiVersion;
  kind: 'BackupServer';
  metadata: Metadata;
  spec: {
    /**
     * The backup server's host name (FQDN); the agent started with --server NAME runs this server's work.
     */
    hostname: string;
    rootDirectory?: AbsolutePath;
    /**
     * The directory holding pg_dump/pg_restore for each PostgreSQL major version, e.g. {"15": "/usr/lib/postgresql/15/bin"}. Majors not listed are discovered under /usr/lib/postgresql/* /bin. The agent runs a tool only when it and every directory above it are owned by root or the agent's user and not writable by group or others.
     */
    pgBinDirectories?: {
      [k: string]: AbsolutePath1 | undefined;
    };
    /**
     * At most this many dumps run at once on this server.
     */
    maxConcurrentDumps?: number;
    /**
     * A dump does not start when the free space under rootDirectory is below this: bytes with a unit (KiB, MiB, GiB, TiB) or a percentage of the file system.
     */
    diskReserve?: string;
    /**
     * Where each dump is kept, in order. Dumps are written in the rootDirectory: the first destination is the primary, either local at the rootDirectory, or a bucket (s3), when the rootDirectory only stages each dump and its folder there is removed once every destination holds it (get backups -o json: rootCopy RELEASED). Each further one receives a copy of every file of the dump, streamed as it is written, recorded per destination (describe backup ID and get backups -o json: copies). Without it, the rootDirectory alone.
     *
     * @minItems 1
     * @maxItems 8
     */
    storage?:
      | [StorageDestination]
      | [StorageDestination, StorageDestination]
      | [StorageDestination, StorageDestination, StorageDestination]
      | [StorageDestination, StorageDestination, StorageDestination, StorageDestination]
      | [StorageDestination, StorageDestination, StorageDestination, StorageDestination, StorageDestination]
      | [
          StorageDestination,
          StorageDestination,
          StorageDestination,
          StorageDestination,
          StorageDestination,
          StorageDestination
        ]
      | [
          StorageDestination,
          StorageDestination,
          StorageDestination,
          StorageDestination,
          StorageDestination,
          StorageDestination,
          StorageDestination
        ]
      | [
          StorageDestination,
          StorageDestination,
          StorageDestination,
          StorageDestination,
          StorageDestination,
          StorageDestination,
          StorageDestination,
          StorageDestination
        ];
    encryption?: Encryption;
    defaults?: DumpSettings;
    description?: Description;
    suspend?: Suspend;
    lifecycle?: Lifecycle;
    notify?: Notify;
    previousName?: PreviousName;
  };
}
/**
 * The object's identity (Kind/name) and its labels.
 */
export interface Metadata {
  name: Name;
  labels?: Labels;
  annotations?: Annotations;
}
/**
 * Key/value pairs used to select objects (a BackupPolicy's nodeSelector). Keys: an optional DNS prefix and '/', then a name of at most 63 characters; values: at most 63 characters of [A-Za-z0-9_.-].
 */
export interface Labels {
  [k: string]: string | undefined;
}
/**
 * Free-form notes about the object, for people and tools. pgbackman reads 'pgbackman.io/prevent-destroy: "true"'.
 */
export interface Annotations {
  [k: string]: string | undefined;
}
/**
 * One place a dump is kept: exactly one of local (a directory) or s3 (a bucket and prefix of an S3-compatible store).
 */
export interface StorageDestination {
  name: Name1;
  /**
   * A directory on the backup server. The agent writes there only when its operator allows it (--allow-destination or PGBACKMAN_ALLOWED_DESTINATIONS), except for the first destination, which is the server's rootDirectory.
   */
  local?: {
    path: AbsolutePath1;
  };
  /**
   * A bucket of S3 or of an S3-compatible store. The agent sends copies there only when its operator allows that endpoint, bucket and prefix (--allow-destination s3://BUCKET/PREFIX, or s3+https://HOST/BUCKET/PREFIX for another endpoint).
   */
  s3?: {
    /**
     * An S3-compatible endpoint, http(s)://host[:port] with no path, user or query; AWS's own for the region when absent.
     */
    endpoint?: string;
    /**
     * The bucket's region (any value an S3-compatible store accepts, such as us-east-1).
     */
    region: string;
    /**
     * The bucket's name: 3 to 63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit.
     */
    bucket: string;
    /**
     * Prepended to every key: folders ending with '/', of letters, digits and ._@+=-, never '.' or '..'. Empty by default.
     */
    prefix?: string;
    /**
     * Address the bucket as https://endpoint/bucket rather than https://bucket.endpoint, as most S3-compatible stores want.
     */
    forcePathStyle?: boolean;
    /**
     * The storage class of each object.
     */
    storageClass?:
      'STANDARD' | 'STANDARD_IA' | 'ONEZONE_IA' | 'INTELLIGENT_TIERING' | 'GLACIER_IR' | 'REDUCED_REDUNDANCY';
  };
  /**
   * Where the S3 key comes from, never the manifest: env names the agent's variables, file a JSON file {"accessKeyId", "secretAccessKey"[, "sessionToken"]} read with the same rules as passwordFrom.file. Without it, the AWS SDK's default chain (environment, shared files, instance roles).
   */
  credentialsFrom?: {
    env?: {
      /**
       * The name of an environment variable of the agent; only variables named PGBACKMAN_SECRET_<NAME> are accepted, so a manifest cannot read the agent's other variables.
       */
      accessKeyId: string;
      /**
       * The name of an environment variable of the agent; only variables named PGBACKMAN_SECRET_<NAME> are accepted, so a manifest cannot read the agent's other variables.
       */
      secretAccessKey: string;
      /**
       * The name of an environment variable of the agent; only variables named PGBACKMAN_SECRET_<NAME> are accepted, so a manifest cannot read the agent's other variables.
       */
      sessionToken?: string;
    };
    file?: AbsolutePath1;
  };
}
/**
 * Encrypt every file of each dump (not backup.json) while it is written, so no plaintext byte reaches a disk or a bucket. Restores, verify --restore and restore tests then need a matching identity (--identity FILE or PGBACKMAN_AGE_IDENTITY). The nearest layer that sets it wins: the definition, its node's defaults, the server's defaults, the server's spec.encryption.
 */
export interface Encryption {
  /**
   * age (age-encryption.org) with X25519 recipients: anyone holding one of their identities can decrypt; nobody else, the backup server included.
   */
  age: {
    /**
     * Public keys, as age-keygen prints them (age1...).
     *
     * @minItems 1
     * @maxItems 32
     */
    recipients: [string, ...string[]];
  };
}
/**
 * What a backup definition takes from its node or backup server when it does not say itself.
 */
export interface DumpSettings {
  code?: BackupCode;
  format?: Format;
  jobs?: Jobs;
  compression?: Compression;
  retention?: Retention;
  timezone?: Timezone;
  extraArgs?: ExtraArgs;
  includeRoles?: IncludeRoles;
  includeDatabaseConfig?: IncludeDatabaseConfig;
  timeout?: DumpTimeout;
  encryption?: Encryption;
}
/**
 * How long dumps are kept: a dump is deleted once no rule keeps it. 'period' keeps every dump younger than it; 'keep' keeps the newest dump of each of the last N hours, days, ISO weeks, months or years (restic's forget); the newest 'redundancy' successful dumps are always kept. Only successful dumps count. Without 'keep', 'period' defaults to 7d.
 */
export interface Retention {
  period?: Duration;
  /**
   * How many of the newest successful dumps are always kept.
   */
  redundancy?: number;
  /**
   * Grandfather-father-son tiers, as restic's forget: each keeps, for each of the last N periods that have a successful dump, that period's newest dump (and the oldest dump while fewer periods exist). Periods are read in the definition's time zone.
   */
  keep?: {
    last?: KeepCount;
    hourly?: KeepCount1;
    daily?: KeepCount2;
    weekly?: KeepCount3;
    monthly?: KeepCount4;
    yearly?: KeepCount5;
  };
}
/**
 * Guards against accidental deletion.
 */
export interface Lifecycle {
  /**
   * When true, a plan that would delete this object fails instead.
   */
  preventDestroy?: boolean;
}
/**
 * Who hears about this object's dumps, and of what. The agent sends by e-mail (through the SMTP server its operator gives it, --smtp) and to webhooks (only under a URL prefix its operator allows, --allow-webhook); a definition's messages go to its own notify, its node's and its server's, each with its own events. Messages carry the definition, node, database, error and the log's tail; never a secret.
 */
export interface Notify {
  /**
   * Addresses that get an e-mail for each event.
   *
   * @maxItems 32
   */
  email?: string[];
  /**
   * URLs that get an HTTP POST for each event: a JSON document (format json, signed with HMAC-SHA256 in the X-Pgbackman-Signature header when secretFrom is given) or a Slack-compatible message (format slack).
   *
   * @maxItems 32
   */
  webhooks?: {
    /**
     * An http or https URL, without credentials; the agent posts only to URLs under a prefix its operator allows (--allow-webhook).
     */
    url: string;
    /**
     * json: pgbackman's own document; slack: {"text": ...} for Slack and compatible incoming webhooks.
     */
    format?: 'json' | 'slack';
    /**
     * The key that signs the JSON document (HMAC-SHA256 of the body, hex, in X-Pgbackman-Signature: sha256=...), never from the manifest: env or file, with the same rules as passwordFrom.
     */
    secretFrom?: {
      /**
       * The name of an environment variable of the agent; only variables named PGBACKMAN_SECRET_<NAME> are accepted, so a manifest cannot read the agent's other variables.
       */
      env?: string;
      file?: AbsolutePath2;
    };
  }[];
  /**
   * The events these channels get; all of them when absent. failed: a dump or snapshot failed; recovered: a definition that failed succeeded again (once per recovery); missed: scheduled runs no agent took while it was down (recorded MISSED when it starts again); overdue: no successful dump by a due time plus the agent's grace (--overdue-grace, 10m), said once per due time by the agent of the definition's server; verify_failed: a restore test of its dumps (spec.verify) failed; restore_failed: a RestoreDefinition's restore failed (its own notify, its target node's and its server's); disk_low: the backup server's root directory has less free space than twice its diskReserve (the server's notify only; said once each time it falls below); retention_blocked: a dump its rules delete is kept because the agent may not delete it (a path it refuses, a copy it cannot remove), said once per dump.
   *
   * @minItems 1
   */
  events?: [
    (
      | 'failed'
      | 'recovered'
      | 'missed'
      | 'overdue'
      | 'verify_failed'
      | 'restore_failed'
      | 'disk_low'
      | 'retention_blocked'
    ),
    ...(
      | 'failed'
      | 'recovered'
      | 'missed'
      | 'overdue'
      | 'verify_failed'
      | 'restore_failed'
      | 'disk_low'
      | 'retention_blocked'
    )[]
  ];
  minInterval?: Duration1;
}
/**
 * A PostgreSQL server whose databases are backed up: how to connect, its backup window, and defaults for its definitions.
 */
export interface PgSQLNode {
  apiVersion: ApiVersion;
  kind: 'PgSQLNode';
  metadata: Metadata;
  spec: {
    /**
     * Host name or IP address of the PostgreSQL server.
     */
    host: string;
    /**
     * The PostgreSQL port.
     */
    port?: number;
    /**
     * The role pgbackman connects as; it must be able to read everything it dumps (a superuser, or pg_read_all_data plus what pg_dumpall --roles-only needs).
     */
    user?: string;
    maintenanceDatabase?: Database;
    /**
     * Where the password comes from, never the manifest: exactly one of env (a variable of the agent) or file (a file the agent reads). Without it libpq's own means apply (.pgpass, PGPASSFILE, certificates).
     */
    passwordFrom?: {
      /**
       * The name of an environment variable of the agent; only variables named PGBACKMAN_SECRET_<NAME> are accepted, so a manifest cannot read the agent's other variables.
       */
      env?: string;
      file?: AbsolutePath3;
    };
    /**
     * libpq sslmode, honoured by pg_dump and by pgbackman's own connection to the node: disable and allow connect without TLS; prefer tries TLS (unverified) and falls back to none when the server has no TLS; require insists on TLS without verifying the certificate; verify-ca verifies it against sslRootCert (else the system's CAs for pgbackman's own connection, ~/.postgresql/root.crt for libpq); verify-full also checks the host name.
     */
    sslMode?: 'disable' | 'allow' | 'prefer' | 'require' | 'verify-ca' | 'verify-full';
    sslRootCert?: AbsolutePath4;
    /**
     * Send the password to a node that asks for it in cleartext (pg_hba.conf method password). Off by default: such a request is refused before the password leaves pgbackman, on its own connection and, with pg_dump 16 or newer, through libpq's require_auth.
     */
    allowCleartextPassword?: boolean;
    /**
     * At most this many dumps of this node run at once on one agent (which also keeps to its server's maxConcurrentDumps); the others wait in a first-in first-out queue.
     */
    maxConcurrentDumps?: number;
    /**
     * Where 'schedule: auto' places dumps: a minute from start up to (not including) end, read in the node's defaults.timezone (UTC when unset), chosen from a SHA-256 hash of the definition's Kind/name, so it is the same on every agent and restart, spread evenly over the window and independent of other definitions. A window may wrap past midnight (22:00-04:00); its days are those of its start, so a minute after midnight runs one day later (daysOfWeek 1-5 becomes 2-6). When a wrapping window sets daysOfMonth or months (which cron cannot move by a day), only its part before midnight is used. The cron-style fields choose the days; see docs/cli.md, Schedules.
     */
    backupWindow?: {
      start?: ClockTime;
      end?: ClockTime1;
      /**
       * Cron day-of-month field.
       */
      daysOfMonth?: string;
      /**
       * Cron month field.
       */
      months?: string;
      /**
       * Cron day-of-week field (0-7, Sunday is 0 or 7).
       */
      daysOfWeek?: string;
    };
    defaults?: DumpSettings;
    restoreExtraArgs?: ExtraArgs1;
    notify?: Notify;
    description?: Description;
    suspend?: Suspend;
    lifecycle?: Lifecycle;
    previousName?: PreviousName;
  };
}
/**
 * Backups for every database of the selected nodes, kept up to date: each live database that matches gets a backup definition made from the template; new databases are picked up, dropped ones are kept for a quarantine period.
 */
export interface BackupPolicy {
  apiVersion: ApiVersion;
  kind: 'BackupPolicy';
  metadata: Metadata;
  spec: {
    server: Name2;
    /**
     * The nodes covered: every node named in names, and every node whose labels include all of matchLabels (a node is covered when either says so).
     */
    nodeSelector: {
      /**
       * @minItems 1
       * @maxItems 10000
       */
      names?: [Name, ...Name[]];
      matchLabels?: Labels1;
    };
    /**
     * Which databases of those nodes: names or patterns where '*' matches any run of characters and '?' one character (every other character matches itself). template0, template1 and postgres are left out unless include names them literally.
     */
    databases?: {
      /**
       * @minItems 1
       * @maxItems 1000
       */
      include?: [string, ...string[]];
      /**
       * @maxItems 1000
       */
      exclude?: string[];
      /**
       * true (the default): leave out databases that already have a BackupDefinition someone wrote for that node and database, on any server and of any code (PgBackMan's #databases_without_backup_definitions#); a node's CLUSTER definition does not count. false: cover them too, with the policy's own definition beside theirs (PgBackMan's #all_databases#), e.g. a policy's FULL dumps beside a hand-written SCHEMA one or one on another backup server.
       */
      skipDatabasesWithDefinitions?: boolean;
    };
    /**
     * The settings of each generated definition; unset fields come from the node's and server's defaults.
     */
    template?: {
      schedule?: Schedule;
      timezone?: Timezone;
      retention?: Retention;
      code?: BackupCode;
      format?: Format;
      jobs?: Jobs;
      compression?: Compression;
      extraArgs?: ExtraArgs;
      includeRoles?: IncludeRoles;
      includeDatabaseConfig?: IncludeDatabaseConfig;
      timeout?: DumpTimeout;
      /**
       * Run a missed scheduled dump as soon as the agent starts.
       */
      catchUp?: boolean;
    };
    deletedDatabaseRetention?: Duration2;
    description?: Description;
    suspend?: Suspend;
    lifecycle?: Lifecycle;
    previousName?: PreviousName;
  };
}
/**
 * Key/value pairs used to select objects (a BackupPolicy's nodeSelector). Keys: an optional DNS prefix and '/', then a name of at most 63 characters; values: at most 63 characters of [A-Za-z0-9_.-].
 */
export interface Labels1 {
  [k: string]: string | undefined;
}
/**
 * A recurring dump of one database (or of a whole node with code CLUSTER) by one backup server. Unset fields come from the node's defaults, then the backup server's, then pgbackman's.
 */
export interface BackupDefinition {
  apiVersion: ApiVersion;
  kind: 'BackupDefinition';
  metadata: Metadata;
  spec: {
    server: Name3;
    node: Name4;
    database?: Database1;
    schedule?: Schedule;
    timezone?: Timezone;
    retention?: Retention;
    /**
     * A restore test on a cadence: the agent restores the newest successful dump into a scratch database on node, checks its tables and rows, runs probe, and drops it.
     */
    verify?: {
      every: Duration3;
      node: Name5;
      timeout?: RestoreTimeout;
      /**
       * SQL that must return true on the restored copy, run read-only as one statement; the agent runs it only when started with --allow-verify-probes.
       */
      probe?: string;
    };
    code?: BackupCode;
    format?: Format;
    jobs?: Jobs;
    compression?: Compression;
    extraArgs?: ExtraArgs;
    includeRoles?: IncludeRoles;
    includeDatabaseConfig?: IncludeDatabaseConfig;
    timeout?: DumpTimeout;
    encryption?: Encryption;
    /**
     * This definition's own storage list, in place of its server's: the same rules (the first is local at the server's rootDirectory or a bucket the rootDirectory only stages dumps for, each other one gets a copy of every dump), for dumps that must go elsewhere or nowhere else.
     *
     * @minItems 1
     * @maxItems 8
     */
    storage?:
      | [StorageDestination]
      | [StorageDestination, StorageDestination]
      | [StorageDestination, StorageDestination, StorageDestination]
      | [StorageDestination, StorageDestination, StorageDestination, StorageDestination]
      | [StorageDestination, StorageDestination, StorageDestination, StorageDestination, StorageDestination]
      | [
          StorageDestination,
          StorageDestination,
          StorageDestination,
          StorageDestination,
          StorageDestination,
          StorageDestination
        ]
      | [
          StorageDestination,
          StorageDestination,
          StorageDestination,
          StorageDestination,
          StorageDestination,
          StorageDestination,
          StorageDestination
        ]
      | [
          StorageDestination,
          StorageDestination,
          StorageDestination,
          StorageDestination,
          StorageDestination,
          StorageDestination,
          StorageDestination,
          StorageDestination
        ];
    /**
     * When a scheduled run was missed (the agent was down at its time), run it as soon as the agent starts.
     */
    catchUp?: boolean;
    description?: Description;
    suspend?: Suspend;
    lifecycle?: Lifecycle;
    notify?: Notify;
    previousName?: PreviousName;
  };
}
/**
 * A one-time dump at a given time, kept for its own retention period (e.g. before an upgrade, or to move a database to a newer major with a newer pg_dump).
 */
export interface SnapshotDefinition {
  apiVersion: ApiVersion;
  kind: 'SnapshotDefinition';
  metadata: Metadata;
  spec: {
    server: Name6;
    node: Name7;
    database?: Database2;
    at: IsoTime;
    retention?: SnapshotRetention;
    code?: BackupCode;
    format?: Format;
    jobs?: Jobs;
    compression?: Compression;
    extraArgs?: ExtraArgs;
    includeRoles?: IncludeRoles;
    includeDatabaseConfig?: IncludeDatabaseConfig;
    timeout?: DumpTimeout;
    encryption?: Encryption;
    /**
     * This definition's own storage list, in place of its server's: the same rules (the first is local at the server's rootDirectory or a bucket the rootDirectory only stages dumps for, each other one gets a copy of every dump), for dumps that must go elsewhere or nowhere else.
     *
     * @minItems 1
     * @maxItems 8
     */
    storage?:
      | [StorageDestination]
      | [StorageDestination, StorageDestination]
      | [StorageDestination, StorageDestination, StorageDestination]
      | [StorageDestination, StorageDestination, StorageDestination, StorageDestination]
      | [StorageDestination, StorageDestination, StorageDestination, StorageDestination, StorageDestination]
      | [
          StorageDestination,
          StorageDestination,
          StorageDestination,
          StorageDestination,
          StorageDestination,
          StorageDestination
        ]
      | [
          StorageDestination,
          StorageDestination,
          StorageDestination,
          StorageDestination,
          StorageDestination,
          StorageDestination,
          StorageDestination
        ]
      | [
          StorageDestination,
          StorageDestination,
          StorageDestination,
          StorageDestination,
          StorageDestination,
          StorageDestination,
          StorageDestination,
          StorageDestination
        ];
    /**
     * Use the pg_dump of this major version (it must not be older than the node's server), e.g. to move a database to a newer PostgreSQL.
     */
    pgDumpVersion?: number;
    /**
     * A free label for the snapshot, shown in listings.
     */
    tag?: string;
    description?: Description;
    suspend?: Suspend;
    lifecycle?: Lifecycle;
    previousName?: PreviousName;
  };
}
/**
 * How long a snapshot's dump is kept after it was taken.
 */
export interface SnapshotRetention {
  period?: Duration4;
}
/**
 * A restore of a catalogued dump into a target node and database, once (at a time, or as soon as it is applied); a CLUSTER dump restores every database of its node onto the target node.
 */
export interface RestoreDefinition {
  apiVersion: ApiVersion;
  kind: 'RestoreDefinition';
  metadata: Metadata;
  spec: {
    /**
     * Which dump to restore: the newest successful dump of a definition or snapshot (optionally the newest taken before a time), or one backup by id. Name exactly one of definition, snapshot, backupId.
     */
    source: {
      definition?: Name8;
      snapshot?: Name9;
      /**
       * One catalogued backup, by id (see 'pgbackman get backups').
       */
      backupId?: string;
      before?: IsoTime1;
    };
    /**
     * Where to restore.
     */
    target: {
      node: Name10;
      database?: Database3;
    };
    server?: Name11;
    at?: IsoTime2;
    /**
     * What to do when the target database exists: fail (default, nothing is touched), rename (the existing database is renamed to renameExistingTo), or drop (it is dropped first; refused when the target is the source database itself). For a CLUSTER dump, applied to each of its databases.
     */
    existing?: 'fail' | 'rename' | 'drop';
    renameExistingTo?: Database4;
    /**
     * Roles the dump needs: create-missing (default) creates those the target lacks from the dump's roles file and uses existing ones as they are; skip restores no roles.
     */
    roles?: 'create-missing' | 'skip';
    /**
     * Parallel pg_restore jobs (-j); not for a CLUSTER dump (psql).
     */
    jobs?: number;
    /**
     * End the sessions on a target database that is renamed or dropped (existing: rename or drop); without it a database in use is left alone and the restore fails.
     */
    terminateConnections?: boolean;
    extraArgs?: ExtraArgs2;
    timeout?: RestoreTimeout1;
    description?: Description;
    suspend?: Suspend;
    lifecycle?: Lifecycle;
    notify?: Notify;
    previousName?: PreviousName;
  };
}
