import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { Command, CommanderError, Option } from 'commander';
import type { AlertSettings } from '../agent/agent-alerts.ts';
import { parseSmtpUrl, parseWebhookPrefix } from '../alerts/alert-channels.ts';
import { DEFAULT_SECRETS_DIR } from '../backup/dump/read-password-file.ts';
import { catalogueLocation } from '../catalogue/open-catalogue.ts';
import { coerceError, PgbackmanError } from '../errors.ts';
import { classifySqlError, isServerError } from '../sqlstate.ts';
import type { GetFlags } from './commands/get.ts';
import type { HistoryFlags } from './commands/history.ts';
import type { RestoreFlags } from './commands/restore.ts';
import { ExitCode, exitCodeFor } from './exit-codes.ts';
import { processOutput } from './output.ts';
import {
  allowedDestinationsFrom,
  parseFlagDuration,
  parseRunStatus,
  parseVerifyStatus,
} from './parse-flags.ts';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

/** Builds the program; command modules are imported only when their command runs, to keep start-up fast. */
export function buildProgram(): Command {
  const program = new Command('pgbackman')
    .description(
      'PostgreSQL backup manager run the GitOps way: manifests in git, a catalogue, agents that dump.',
    )
    .version(version, '-V, --version', 'print the version and exit')
    .helpOption('-h, --help', 'show help')
    .showSuggestionAfterError(true)
    .option(
      '--catalogue <url>',
      'postgres://... for a shared catalogue, or a directory for the embedded one (env PGBACKMAN_CATALOGUE; default ./.pgbackman/catalogue)',
    )
    .option(
      '--secrets-dir <dir>',
      'the only directory passwordFrom.file may read from (env PGBACKMAN_SECRETS_DIR; default /etc/pgbackman/secrets)',
    )
    .option(
      '--allow-destination <place>',
      'a place storage copies may go: a directory, s3://BUCKET[/PREFIX], or s3+https://HOST[:PORT]/BUCKET[/PREFIX]; repeat for more (env PGBACKMAN_ALLOWED_DESTINATIONS, comma-separated)',
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .option(
      '--identity <file>',
      'age identities (age-keygen output) that decrypt encrypted dumps, for restore, verify and the agent (env PGBACKMAN_AGE_IDENTITY: a file, or the keys themselves)',
    )
    .exitOverride();
  // Loaded only by the commands that decrypt: age's library costs every other command nothing.
  const identitiesOf = async (cmd: Command): Promise<readonly string[]> =>
    (await import('../encryption/age-keys.ts')).readIdentities({
      file: cmd.optsWithGlobals<{ identity?: string }>().identity,
      env: process.env.PGBACKMAN_AGE_IDENTITY,
    });
  const catalogueOf = (cmd: Command): string =>
    catalogueLocation(cmd.optsWithGlobals<{ catalogue?: string }>().catalogue);

  program
    .command('validate')
    .description('check manifests: YAML, schema and references; exit 0 when valid, 1 when not')
    .argument('[paths...]', 'manifest files or directories (searched recursively for *.yaml, *.yml)', [
      'manifests',
    ])
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
    .option('--max-file-size <bytes>', 'refuse manifest files larger than this', parseBytes, 1024 * 1024)
    .action(async (paths: string[], opts: { output: 'text' | 'json'; maxFileSize: number }) => {
      const { runValidate } = await import('./commands/validate.ts');
      process.exitCode = await runValidate(paths, opts, processOutput());
    });

  program
    .command('schema')
    .description('print the JSON Schema of a manifest kind, or of all kinds')
    .argument(
      '[kind]',
      'BackupServer, PgSQLNode, BackupDefinition, SnapshotDefinition, RestoreDefinition or BackupPolicy',
    )
    .action(async (kind: string | undefined) => {
      const { runSchema } = await import('./commands/schema.ts');
      process.exitCode = runSchema(kind, processOutput());
    });

  program
    .command('plan')
    .description('show what applying the manifests would change in the catalogue; changes nothing')
    .argument('[paths...]', 'manifest files or directories', ['manifests'])
    .addOption(
      new Option('-o, --output <format>', 'output format')
        .choices(['text', 'json', 'markdown'])
        .default('text'),
    )
    .option(
      '--detailed-exitcode',
      'exit 0 when there are no changes, 1 on error, 2 when there are changes',
      false,
    )
    .option('--out <file>', 'save the plan, to apply exactly it later with `pgbackman apply FILE`')
    .option('--allow-empty', 'allow an empty manifest set, which deletes every managed object', false)
    .option(
      '--against <ref>',
      "compare with the same paths at this git revision (a pull request's base) instead of the catalogue",
    )
    .action(
      async (
        paths: string[],
        opts: {
          output: 'text' | 'json' | 'markdown';
          detailedExitcode: boolean;
          out?: string;
          allowEmpty: boolean;
          against?: string;
        },
        cmd: Command,
      ) => {
        const { runPlan } = await import('./commands/plan.ts');
        const { secretsDir } = cmd.optsWithGlobals<{ secretsDir?: string }>();
        process.exitCode = await runPlan(paths, catalogueOf(cmd), { ...opts, secretsDir }, processOutput());
      },
    );

  program
    .command('apply')
    .description('make the catalogue match the manifests (or apply a saved plan), after approval')
    .argument('[paths...]', 'manifest files or directories, or one saved plan file', ['manifests'])
    .option('--auto-approve', 'apply without asking', false)
    .option('--allow-empty', 'allow an empty manifest set, which deletes every managed object', false)
    .action(async (paths: string[], opts: { autoApprove: boolean; allowEmpty: boolean }, cmd: Command) => {
      const { runApply } = await import('./commands/apply.ts');
      const { secretsDir } = cmd.optsWithGlobals<{ secretsDir?: string }>();
      process.exitCode = await runApply(paths, catalogueOf(cmd), { ...opts, secretsDir }, processOutput());
    });

  program
    .command('get')
    .description('list objects or dumps from the catalogue')
    .argument(
      '<resource>',
      'servers, nodes, definitions, snapshots, restoredefinitions, policies, backups, restores, agents or databases',
    )
    .addOption(
      new Option('-o, --output <format>', 'output format')
        .choices(['table', 'json', 'yaml'])
        .default('table'),
    )
    .option('--server <name>', 'only those of this backup server')
    .option('--node <name>', 'only those of this node')
    .option('--database <name>', 'only those of this database')
    .option(
      '--status <status>',
      'backups only: RUNNING, SUCCEEDED, SUCCEEDED_PARTIAL, FAILED or MISSED; or DELETING or DELETED, for dumps retention is deleting or has deleted',
      parseRunStatus,
    )
    .option('--all', 'backups only: deleted dumps too (left out unless asked for)', false)
    .option(
      '--verify <result>',
      'backups only: the last verify result, OK, CORRUPT or MISSING, or NONE for never verified',
      parseVerifyStatus,
    )
    .option('--since <time>', 'backups only: started since a duration ago (7d) or an ISO 8601 time')
    .option('--limit <n>', 'backups only: at most this many, newest first (default 100)', (v) =>
      parseCount(v, '--limit'),
    )
    .option('--uncovered', 'databases only: those no definition or policy backs up', false)
    .option('--failing', 'definitions only: those whose last run failed (after their last success)')
    .option('--never-succeeded', 'definitions only: those with no successful dump yet')
    .action(async (resource: string, opts: GetFlags, cmd: Command) => {
      const { runGet } = await import('./commands/get.ts');
      const { secretsDir } = cmd.optsWithGlobals<{ secretsDir?: string }>();
      process.exitCode = await runGet(resource, catalogueOf(cmd), { ...opts, secretsDir }, processOutput());
    });

  program
    .command('describe')
    .description('everything the catalogue knows about one object (KIND/NAME) or one dump (backup ID)')
    .argument(
      '<target>',
      'KIND/NAME, e.g. BackupDefinition/shop-nightly or definition/shop-nightly; or "backup"',
    )
    .argument('[id]', 'with "backup": the backup id (or its first characters)')
    .action(async (target: string, id: string | undefined, _opts: unknown, cmd: Command) => {
      const { runDescribe } = await import('./commands/describe.ts');
      process.exitCode = await runDescribe(target, id, catalogueOf(cmd), processOutput());
    });

  program
    .command('run')
    .description('take one dump of a backup definition (or --snapshot) now, in the foreground, and record it')
    .argument('<name>', 'the BackupDefinition (or SnapshotDefinition) name')
    .option('--snapshot', 'the name is a SnapshotDefinition', false)
    .action(async (name: string, opts: { snapshot: boolean }, cmd: Command) => {
      const { runRun } = await import('./commands/run.ts');
      const { secretsDir, allowDestination } = cmd.optsWithGlobals<{
        secretsDir?: string;
        allowDestination: string[];
      }>();
      process.exitCode = await runRun(
        name,
        catalogueOf(cmd),
        { ...opts, secretsDir, allowedDestinations: allowedDestinationsFrom(allowDestination, process.env) },
        processOutput(),
      );
    });

  program
    .command('verify')
    .description("re-hash a dump's files and read it with pg_restore --list; record the result")
    .argument('[id]', 'the backup id (or its first characters)')
    .option('--all', 'every successful dump that has not been deleted', false)
    .option(
      '--deep',
      "also read back each copy at a further storage destination and re-hash it (without it: each copy's files are asked for their size and ETag)",
      false,
    )
    .option(
      '--restore',
      'also restore it into a scratch database on --node and check it (tables, rows, --probe)',
      false,
    )
    .option('--node <name>', 'with --restore: the PgSQLNode the scratch database is made on')
    .option('--probe <sql>', 'with --restore: SQL that must return true on the restored copy (read-only)')
    .option(
      '--timeout <duration>',
      'with --restore: stop the restore test past this long (90s, 6h); no limit by default',
      (v) => parseFlagDuration(v, '--timeout'),
    )
    .action(
      async (
        id: string | undefined,
        opts: {
          all: boolean;
          deep: boolean;
          restore: boolean;
          node?: string;
          probe?: string;
          timeout?: number;
        },
        cmd: Command,
      ) => {
        const { runVerify, runVerifyRestore } = await import('./commands/verify.ts');
        const { secretsDir, allowDestination } = cmd.optsWithGlobals<{
          secretsDir?: string;
          allowDestination: string[];
        }>();
        process.exitCode =
          opts.restore || opts.node !== undefined || opts.probe !== undefined || opts.timeout !== undefined
            ? await runVerifyRestore(
                id,
                {
                  ...opts,
                  secretsDir,
                  allowedDestinations: allowedDestinationsFrom(allowDestination, process.env),
                  identities: await identitiesOf(cmd),
                },
                catalogueOf(cmd),
                processOutput(),
              )
            : await runVerify(id, opts.all, catalogueOf(cmd), processOutput(), {
                deep: opts.deep,
                identities: await identitiesOf(cmd),
                allowed: allowedDestinationsFrom(allowDestination, process.env),
                env: process.env,
                secretsDir: secretsDir ?? (process.env.PGBACKMAN_SECRETS_DIR || DEFAULT_SECRETS_DIR),
              });
      },
    );

  program
    .command('pin')
    .description('keep a successful dump whatever retention says; records who pinned it, when and why')
    .argument('<id>', 'the backup id (or its first characters)')
    .option('--reason <text>', 'why it is kept, shown by get backups -o json and describe backup')
    .action(async (id: string, opts: { reason?: string }, cmd: Command) => {
      const { runPin } = await import('./commands/pin.ts');
      process.exitCode = await runPin(id, opts.reason, catalogueOf(cmd), processOutput());
    });

  program
    .command('unpin')
    .description('remove a pin: retention may delete the dump again')
    .argument('<id>', 'the backup id (or its first characters)')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const { runUnpin } = await import('./commands/pin.ts');
      process.exitCode = await runUnpin(id, catalogueOf(cmd), processOutput());
    });

  program
    .command('restore')
    .description(
      'restore a dump onto a node: check it, create missing roles, handle an existing database, create it with its configuration, pg_restore; recorded',
    )
    .argument('[id]', 'the backup id (or its first characters); or --from')
    .option('--node <name>', 'the PgSQLNode to restore onto')
    .option(
      '--from <path>',
      'a dump folder (its backup.json says what it holds), on disk or in a bucket (s3://BUCKET/PREFIX/FOLDER, s3+https://HOST/BUCKET/…): no catalogue entry needed',
    )
    .option(
      '--target <conninfo>',
      'with --from: where to restore, as a libpq string or URL (no catalogue at all)',
    )
    .option('--database <name>', "the target database (default: the dump's own)")
    .addOption(
      new Option(
        '--existing <policy>',
        'when the target database exists: fail (touch nothing), rename it, or drop it',
      )
        .choices(['fail', 'rename', 'drop'])
        .default('fail'),
    )
    .option(
      '--rename-existing-to <name>',
      'with --existing rename: the new name (default <name>_<UTC timestamp>)',
    )
    .addOption(
      new Option('--roles <policy>', 'create the roles the dump needs that the target lacks, or restore none')
        .choices(['create-missing', 'skip'])
        .default('create-missing'),
    )
    .option(
      '--no-config',
      "create the database plainly, without the dump's configuration (owner, settings, grants)",
    )
    .option(
      '--jobs <n>',
      'parallel pg_restore jobs, 1 to 64 (custom and directory dumps)',
      (v) => {
        const n = parseCount(v, '--jobs');
        if (n > 64) throw new PgbackmanError('USAGE', `--jobs: ${n} is more than 64`);
        return n;
      },
      1,
    )
    .option('--terminate-connections', 'end the sessions on a database that is renamed or dropped', false)
    .option('--dry-run', 'print the steps and commands, change nothing', false)
    .option('--yes', 'do not ask before renaming or dropping a database on a terminal', false)
    .option(
      '--timeout <duration>',
      'stop the restore past this long (90s, 6h) and record it FAILED, saying what the target holds; no limit by default',
      (v) => parseFlagDuration(v, '--timeout'),
    )
    .action(async (id: string | undefined, opts: RestoreFlags, cmd: Command) => {
      const { runRestore } = await import('./commands/restore.ts');
      const { secretsDir, allowDestination } = cmd.optsWithGlobals<{
        secretsDir?: string;
        allowDestination: string[];
      }>();
      process.exitCode = await runRestore(
        id,
        catalogueOf(cmd),
        {
          ...opts,
          secretsDir,
          allowedDestinations: allowedDestinationsFrom(allowDestination, process.env),
          identities: await identitiesOf(cmd),
        },
        processOutput(),
      );
    });

  program
    .command('agent')
    .description(
      "run a backup server's agent: pull the manifests, apply them, schedule and take its dumps, until stopped",
    )
    .requiredOption('--server <name>', 'the BackupServer this agent runs the dumps of')
    .option('--repo <url>', 'a git repository to pull the manifests from (file://, ssh:// or https://)')
    .option('--branch <branch>', 'the branch to follow', 'main')
    .option('--path <dir>', 'the manifests directory inside the repository', '.')
    .option('--watch <dir>', 'a directory of manifests to watch instead of a repository')
    .option(
      '--interval <duration>',
      'fetch and reconcile this often (30s, 1m, 5m)',
      (v) => parseFlagDuration(v, '--interval'),
      60_000,
    )
    .option(
      '--grace <duration>',
      'on SIGTERM, how long running dumps may take to finish',
      (v) => parseFlagDuration(v, '--grace'),
      600_000,
    )
    .option(
      '--retention-interval <duration>',
      "sweep this server's dumps by retention this often, and after each successful dump (0 or off: never)",
      (v) => (v === 'off' || v === '0' ? 0 : parseFlagDuration(v, '--retention-interval')),
      3_600_000,
    )
    .option(
      '--copy-retry-interval <duration>',
      "copy this server's SUCCEEDED_PARTIAL dumps again to the destinations they lack this often (0 or off: never)",
      (v) => (v === 'off' || v === '0' ? 0 : parseFlagDuration(v, '--copy-retry-interval')),
      600_000,
    )
    .option('--no-apply', 'never apply: run what the catalogue holds (when CI applies)')
    .option(
      '--allow-verify-probes',
      "run spec.verify's probes (SQL from the manifests, read-only on the scratch copy) in restore tests",
      false,
    )
    .option('--listen <addr>', 'HOST:PORT for /healthz, /readyz and /metrics, or none', '127.0.0.1:9187')
    .option(
      '--smtp <url>',
      "the SMTP server notify's e-mail goes through: smtp://[USER@]HOST[:PORT][?starttls=required] or smtps://...; the password from PGBACKMAN_SMTP_PASSWORD (env PGBACKMAN_SMTP)",
    )
    .option(
      '--mail-from <address>',
      "notify e-mail's sender (env PGBACKMAN_MAIL_FROM; default pgbackman@HOST)",
    )
    .option(
      '--allow-webhook <prefix>',
      "a URL prefix notify's webhooks may post to; repeat for more (env PGBACKMAN_ALLOWED_WEBHOOKS, comma-separated); none by default",
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .option('--status-url <url>', "the status page's address, linked from every alert")
    .option(
      '--alert-retry <duration>',
      'the first wait before a message that could not be sent is tried again; each next one doubles, up to 1h',
      (v) => parseFlagDuration(v, '--alert-retry'),
      30_000,
    )
    .option(
      '--overdue-grace <duration>',
      "how long after a due time a definition's success may come before it is OVERDUE and notify's overdue is sent",
      (v) => parseFlagDuration(v, '--overdue-grace'),
      600_000,
    )
    .option(
      '--state-dir <dir>',
      'the embedded catalogue, job cache and source checkout (env PGBACKMAN_STATE_DIR; default ./.pgbackman)',
    )
    .addOption(
      new Option('--log-level <level>', 'least important log lines written')
        .choices(['debug', 'info', 'warn', 'error'])
        .default('info'),
    )
    .action(async (opts: AgentCliOptions, cmd: Command) => {
      const { runAgent } = await import('./commands/agent.ts');
      const globals = cmd.optsWithGlobals<{
        catalogue?: string;
        secretsDir?: string;
        allowDestination: string[];
      }>();
      process.exitCode = await runAgent(
        {
          server: opts.server,
          ...(opts.repo === undefined ? {} : { repo: opts.repo }),
          ...(opts.watch === undefined ? {} : { watch: opts.watch }),
          branch: opts.branch,
          path: opts.path,
          intervalMs: opts.interval,
          graceMs: opts.grace,
          retentionIntervalMs: opts.retentionInterval,
          copyRetryIntervalMs: opts.copyRetryInterval,
          allowVerifyProbes: opts.allowVerifyProbes,
          apply: opts.apply,
          listen: opts.listen,
          stateDir: opts.stateDir ?? (process.env.PGBACKMAN_STATE_DIR || '.pgbackman'),
          catalogue: globals.catalogue ?? (process.env.PGBACKMAN_CATALOGUE || undefined),
          secretsDir: globals.secretsDir,
          allowedDestinations: allowedDestinationsFrom(globals.allowDestination, process.env),
          identities: await identitiesOf(cmd),
          logLevel: opts.logLevel,
          alerts: alertSettingsOf(opts, process.env),
          overdueGraceMs: opts.overdueGrace,
        },
        version,
        processOutput(),
      );
      // Stopped, drained and closed: a handle some library left open must not keep the process alive
      // (a service manager would wait out its stop timeout, then kill it).
      setTimeout(() => {
        process.stderr.write(
          `pgbackman agent: stopped, but something still held the process open (${process.getActiveResourcesInfo().join(', ')}): exiting\n`,
        );
        process.exit();
      }, 5_000).unref();
    });

  program
    .command('demo')
    .description('try it: a throwaway PostgreSQL node and an agent that dumps it every 15 s, until Ctrl-C')
    .option('--state-dir <dir>', 'where the demo keeps its catalogue, manifests and dumps', '.pgbackman-demo')
    .action(async (opts: { stateDir: string }) => {
      const { runDemoCommand } = await import('./commands/demo.ts');
      process.exitCode = await runDemoCommand(opts.stateDir, version, processOutput());
    });

  program
    .command('history')
    .description(
      'what was applied, when, by whom and from which commit (history), one apply in full (history SERIAL), or every run, deleted ones too (history runs)',
    )
    .argument('[what]', '"applies" (the default), "runs", or the serial of one apply')
    .addOption(
      new Option('-o, --output <format>', 'output format')
        .choices(['table', 'json', 'yaml'])
        .default('table'),
    )
    .option('--since <time>', 'since a duration ago (7d) or an ISO 8601 time')
    .option('--limit <n>', 'at most this many, newest first (20 applies, 100 runs by default)', (v) =>
      parseCount(v, '--limit'),
    )
    .option('--server <name>', 'runs only: of this backup server')
    .option('--node <name>', 'runs only: of this node')
    .option('--database <name>', 'runs only: of this database')
    .option('--definition <name>', 'runs only: of this definition')
    .option(
      '--status <status>',
      'runs only: RUNNING, SUCCEEDED, SUCCEEDED_PARTIAL, FAILED, MISSED, DELETING or DELETED',
      parseRunStatus,
    )
    .action(async (what: string | undefined, opts: HistoryFlags, cmd: Command) => {
      const { runHistory } = await import('./commands/history.ts');
      process.exitCode = await runHistory(catalogueOf(cmd), what, opts, processOutput());
    });

  program
    .command('stats')
    .description(
      'what is covered, what failed, how much space: servers, nodes, definitions, dumps by status, size per node, failures in 24 h and 7 d, verify coverage',
    )
    .argument('[scope...]', 'nothing for the whole fleet, "server NAME" or "node NAME"')
    .addOption(
      new Option('-o, --output <format>', 'output format')
        .choices(['table', 'json', 'yaml'])
        .default('table'),
    )
    .action(async (scope: string[], opts: { output: 'table' | 'json' | 'yaml' }, cmd: Command) => {
      const { runStats } = await import('./commands/stats.ts');
      process.exitCode = await runStats(catalogueOf(cmd), scope, opts.output, processOutput());
    });

  program
    .command('reconcile')
    .description('ask the agents to fetch and reconcile now, and wait for what they report')
    .option('--server <name>', 'only the agents of this backup server')
    .option(
      '--timeout <duration>',
      'how long to wait for the agents',
      (v) => parseFlagDuration(v, '--timeout'),
      120_000,
    )
    .action(async (opts: { server?: string; timeout: number }, cmd: Command) => {
      const { runReconcile } = await import('./commands/reconcile.ts');
      process.exitCode = await runReconcile(
        catalogueOf(cmd),
        { server: opts.server, timeoutMs: opts.timeout },
        processOutput(),
      );
    });

  program
    .command('status')
    .description(
      'last success, last failure, next run and state of each backup definition (and pending snapshot); exit 1 when any is OVERDUE or FAILING',
    )
    .option('--server <name>', 'only the definitions of this backup server')
    .option(
      '--grace <duration>',
      'how long after a due time a success may come before it is OVERDUE (30s, 10m, 1h, 1d)',
      '10m',
    )
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
    .action(async (opts: { server?: string; grace: string; output: 'text' | 'json' }, cmd: Command) => {
      const { runStatus } = await import('./commands/status.ts');
      process.exitCode = await runStatus(catalogueOf(cmd), opts, processOutput());
    });

  const retention = program
    .command('retention')
    .description('see which dumps retention keeps and deletes, and why; then delete them');
  retention
    .command('plan')
    .description('dry run: every dump of the definitions and snapshots, keep or delete and every reason')
    .argument('[names...]', 'definitions or snapshots (all by default)')
    .option('--server <name>', 'only the dumps of this backup server')
    .option('--at <time>', 'read the rules as if it were this ISO 8601 time (see what next month deletes)')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
    .action(
      async (
        names: string[],
        opts: { server?: string; at?: string; output: 'text' | 'json' },
        cmd: Command,
      ) => {
        const { runRetentionPlan } = await import('./commands/retention.ts');
        process.exitCode = await runRetentionPlan(catalogueOf(cmd), names, opts, processOutput());
      },
    );
  retention
    .command('apply')
    .description("delete exactly what the plan says now, on the backup server's host")
    .argument('[names...]', 'definitions or snapshots (all by default)')
    .option('--server <name>', 'the backup server whose dumps to delete (needed when there are several)')
    .option('--auto-approve', 'delete without asking', false)
    .action(async (names: string[], opts: { server?: string; autoApprove: boolean }, cmd: Command) => {
      const { runRetentionApply } = await import('./commands/retention.ts');
      const { secretsDir, allowDestination } = cmd.optsWithGlobals<{
        secretsDir?: string;
        allowDestination: string[];
      }>();
      process.exitCode = await runRetentionApply(
        catalogueOf(cmd),
        names,
        {
          ...opts,
          secretsDir: secretsDir ?? (process.env.PGBACKMAN_SECRETS_DIR || DEFAULT_SECRETS_DIR),
          allowedDestinations: allowedDestinationsFrom(allowDestination, process.env),
        },
        processOutput(),
      );
    });

  program
    .command('purge')
    .description('delete every dump of a definition or snapshot removed from the catalogue (not pinned ones)')
    .argument('<name>', 'the removed definition or snapshot')
    .option('--server <name>', 'the backup server whose dumps to delete (needed when there are several)')
    .option('--confirm', 'delete; without it, only show what would go', false)
    .action(async (name: string, opts: { server?: string; confirm: boolean }, cmd: Command) => {
      const { runPurge } = await import('./commands/purge.ts');
      process.exitCode = await runPurge(catalogueOf(cmd), name, opts, processOutput());
    });

  const catalogue = program.command('catalogue').description('manage the catalogue database itself');
  catalogue
    .command('migrate')
    .description("create the catalogue's schema, or bring it to this version of pgbackman")
    .action(async (_opts: unknown, cmd: Command) => {
      const { runMigrate } = await import('./commands/catalogue.ts');
      process.exitCode = await runMigrate(catalogueOf(cmd), processOutput());
    });
  catalogue
    .command('status')
    .description('schema version, pending migrations, lineage, serial and last apply')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
    .action(async (opts: { output: 'text' | 'json' }, cmd: Command) => {
      const { runStatus } = await import('./commands/catalogue.ts');
      process.exitCode = await runStatus(catalogueOf(cmd), opts.output, processOutput());
    });
  catalogue
    .command('import')
    .description(
      'enter the dumps found under PATH (their backup.json) into the catalogue, after a catalogue loss',
    )
    .argument(
      '<path...>',
      "a backup server's root directory, dump folders, or a bucket a server's storage lists (s3://BUCKET[/PREFIX], s3+https://HOST/BUCKET[/PREFIX])",
    )
    .action(async (paths: string[], _opts: unknown, cmd: Command) => {
      const { runCatalogueImport } = await import('./commands/catalogue-import.ts');
      const { secretsDir } = cmd.optsWithGlobals<{ secretsDir?: string }>();
      process.exitCode = await runCatalogueImport(paths, catalogueOf(cmd), processOutput(), {
        env: process.env,
        secretsDir: secretsDir ?? (process.env.PGBACKMAN_SECRETS_DIR || DEFAULT_SECRETS_DIR),
      });
    });

  return program;
}

interface AgentCliOptions {
  server: string;
  repo?: string;
  branch: string;
  path: string;
  watch?: string;
  interval: number;
  grace: number;
  retentionInterval: number;
  copyRetryInterval: number;
  allowVerifyProbes: boolean;
  apply: boolean;
  listen: string;
  stateDir?: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  smtp?: string;
  mailFrom?: string;
  allowWebhook: string[];
  statusUrl?: string;
  alertRetry: number;
  overdueGrace: number;
}

/** The agent's alert channels from its flags and environment: the operator's, never a manifest's. */
function alertSettingsOf(opts: AgentCliOptions, env: NodeJS.ProcessEnv): AlertSettings {
  const smtp = opts.smtp ?? (env.PGBACKMAN_SMTP || undefined);
  const webhooks = [
    ...opts.allowWebhook,
    ...(env.PGBACKMAN_ALLOWED_WEBHOOKS ?? '').split(',').filter((w) => w.trim() !== ''),
  ];
  if (opts.statusUrl !== undefined && !/^https?:\/\/\S+$/.test(opts.statusUrl))
    throw new PgbackmanError('USAGE', `--status-url: "${opts.statusUrl}" is not an http(s) URL`);
  return {
    smtp: smtp === undefined ? undefined : parseSmtpUrl(smtp, env),
    from: opts.mailFrom ?? (env.PGBACKMAN_MAIL_FROM || `pgbackman@${hostname()}`),
    allowedWebhooks: webhooks.map((w) => parseWebhookPrefix(w.trim())),
    statusUrl: opts.statusUrl ?? null,
    retryBaseMs: opts.alertRetry,
  };
}

function parseCount(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new PgbackmanError('USAGE', `${flag}: "${value}" is not a positive whole number`);
  return n;
}

function parseBytes(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new PgbackmanError('USAGE', `--max-file-size: "${value}" is not a positive whole number of bytes`);
  return n;
}

export async function main(argv: readonly string[]): Promise<void> {
  const output = processOutput();
  try {
    await buildProgram().parseAsync([...argv]);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has already printed its message (or the help/version text).
      const quiet = ['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(err.code);
      process.exitCode = quiet ? ExitCode.Ok : ExitCode.Usage;
      return;
    }
    const e = asPgbackmanError(err);
    output.err.write(`${formatError(e)}\n`);
    if (e.code === 'INTERNAL') {
      output.err.write('This is a bug in pgbackman; please report it with the command you ran.\n');
      if (process.env.PGBACKMAN_DEBUG) output.err.write(`${coerceError(err).stack ?? ''}\n`);
    }
    process.exitCode = exitCodeFor(e.code);
  }
}

/** `error[CODE]: message`, the one shape every error is printed in. */
export function formatError(e: PgbackmanError): string {
  return `error[${e.code}]: ${e.message}`;
}

/** What the CLI prints for anything thrown: our own errors as they are, a refusal of the catalogue, or a bug. */
function asPgbackmanError(err: unknown): PgbackmanError {
  if (err instanceof PgbackmanError) return err;
  if (isServerError(err)) {
    // The catalogue refused a statement: say what it said, and what usually causes it.
    const hint =
      classifySqlError(err) === 'privilege'
        ? ' (the role lacks privileges: apply and agents need pgbackman_rw, plan needs pgbackman_ro)'
        : '';
    return new PgbackmanError('CATALOGUE_REFUSED', `the catalogue refused: ${err.message}${hint}`, {
      cause: err,
    });
  }
  const e = coerceError(err);
  return new PgbackmanError('INTERNAL', `internal error: ${e.message}`, { cause: err });
}
