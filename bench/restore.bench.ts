// `pgbackman restore BACKUP_ID --node NODE --database NAME` (re-hash the dump and read its TOC, the target's
// roles, CREATE DATABASE from the dump's config.sql, pg_restore --exit-on-error, recorded in the catalogue)
// against a bare `createdb && pg_restore -d` of the same custom-format files, side by side, on the dump
// benchmark's two databases (pgbench scale 70, and random text and bytea), dumped by a real `pgbackman run`.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { hashFile } from '../src/backup/files/hashed-file.ts';
import {
  buildDatabases,
  type Database,
  DB,
  DumpCluster,
  definitionDoc,
  exec,
  NODE,
  scaleOf,
  serverAndNode,
  yamlFile,
} from './dump-databases.ts';
import {
  type BenchContext,
  type Benchmark,
  type CommandSpec,
  GNU_TIME,
  type MeasuredGroup,
  measureGroup,
  medianWall,
  stats,
  target,
} from './harness.ts';
import { stopOnSignal } from './server-helpers.ts';

/** Issue 15: "pgbackman restore … against bare pg_restore of the same files …: ≤ 1.05× (checksum check included)". */
const OVERHEAD_RATIO = 1.05;
/** Refuse to start with less free space than this (two clusters' worth of databases, dumps, restored copies). */
const MIN_FREE_BYTES = 10 * 1024 ** 3;
/** Untimed passes of each step measured alone (the re-hash, pg_restore --list), after the measured rounds. */
const STEP_PASSES = 3;

const DATABASES: readonly Database[] = [DB.bench, DB.noise];
const targetOf = (d: Database) => `${d}_restored`;

const run = promisify(execFile);
const mib = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
const ms = (v: number) => (Number.isNaN(v) ? '?' : `${Math.round(v)} ms`);
const fmt = (v: number) => v.toLocaleString('en-US');
const sh = (s: string) => (/^[\w./=:@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/**
 * The commands of one database: pgbackman's restore, the bare pg_restore, the bare one with --exit-on-error,
 * and the floor: the bare one after Node has started and re-hashed the dump, as the issue asks before anything.
 */
interface Trio {
  readonly database: Database;
  readonly restore: CommandSpec;
  readonly bare: CommandSpec;
  readonly bareExit: CommandSpec;
  readonly floor: CommandSpec;
}

function medianOf(group: MeasuredGroup, label: string, what: 'cpuMs' | 'helperCpuMs' | 'maxRssKiB'): number {
  const m = group.measurements.find((x) => x.spec.label === label);
  if (m === undefined) throw new Error(`no measurement labelled "${label}"`);
  return stats(m[what]).median;
}

/** Milliseconds of `step`, STEP_PASSES times, untimed by the harness: the median. */
async function timed(step: () => Promise<unknown>): Promise<number> {
  const each: number[] = [];
  for (let i = 0; i < STEP_PASSES; i++) {
    const start = process.hrtime.bigint();
    await step();
    each.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return stats(each).median;
}

const benchmark: Benchmark = {
  id: 'restore',
  title: 'Restores: pgbackman restore against a bare pg_restore',

  async run(ctx: BenchContext) {
    const { scale, noiseRows } = scaleOf(ctx);
    const scratch = mkdtempSync(join(tmpdir(), 'pgbackman-bench-restore-'));
    const free = (() => {
      const s = statfsSync(scratch);
      return s.bavail * s.bsize;
    })();
    if (free < MIN_FREE_BYTES) {
      rmSync(scratch, { recursive: true, force: true });
      throw new Error(
        `restore: only ${mib(free)} free under ${scratch}; this benchmark wants ${mib(MIN_FREE_BYTES)}`,
      );
    }
    const root = join(scratch, 'root');
    const manifestDir = join(scratch, 'manifests');
    mkdirSync(root, { recursive: true });
    mkdirSync(manifestDir, { recursive: true });

    ctx.log(`restore: starting a throwaway PostgreSQL (${mib(free)} free under ${scratch})`);
    const c = await DumpCluster.start('bench-restore');
    const release = stopOnSignal(async () => {
      await c.stop();
      rmSync(scratch, { recursive: true, force: true });
    });
    try {
      const port = c.cluster.port;
      const sizes = await buildDatabases(c, ctx.root, (l) => ctx.log(`restore: ${l}`), scale, noiseRows);

      ctx.log(
        'restore: migrating the catalogue, applying the manifests, and one pgbackman run of each database',
      );
      const catalogue = c.url(DB.catalogue);
      await c.sql(`create database ${DB.catalogue}`);
      writeFileSync(
        join(manifestDir, 'bench.yaml'),
        yamlFile([...serverAndNode(root, port), ...DATABASES.map((d) => definitionDoc(d, 'custom'))]),
      );
      const cli = (...args: string[]) => ['bin/pgbackman.js', '--catalogue', catalogue, ...args];
      await exec(process.execPath, cli('catalogue', 'migrate'), ctx.root);
      await exec(process.execPath, cli('apply', manifestDir, '--auto-approve'), ctx.root);
      const dumps = new Map<Database, { id: string; path: string; bytes: number }>();
      for (const database of DATABASES) {
        await exec(process.execPath, cli('run', `${database}-custom`), ctx.root);
        const [row] = await c.rowsIn<{ id: string; dump_path: string }>(
          DB.catalogue,
          "select id::text, dump_path from pgbackman.backup_runs where definition = $1 and status = 'SUCCEEDED'",
          [`${database}-custom`],
        );
        if (row === undefined) throw new Error(`restore: no SUCCEEDED run of ${database}-custom`);
        dumps.set(database, { id: row.id, path: row.dump_path, bytes: statSync(row.dump_path).size });
      }
      const dumpOf = (d: Database) => dumps.get(d) as { id: string; path: string; bytes: number };

      const restoreIds = new Map<Database, string[]>();
      const succeeded = (database: Database) => (stdout: string) => {
        const id = /^Restore (\S+) SUCCEEDED: /m.exec(stdout)?.[1];
        if (id === undefined) return `expected "Restore … SUCCEEDED", got: ${stdout.trim().slice(-300)}`;
        restoreIds.set(database, [...(restoreIds.get(database) ?? []), id]);
        return undefined;
      };
      // Untimed before every run: the target database is dropped, so each restore starts from nothing.
      const dropTarget = (database: Database) => async () => {
        await c.sql(`drop database if exists ${targetOf(database)}`);
      };
      const createdb = (database: Database) =>
        `${sh(c.tool('createdb'))} -h 127.0.0.1 -p ${port} -U postgres ${targetOf(database)}`;
      const pgRestore = (database: Database, exitOnError: boolean) =>
        `${sh(c.tool('pg_restore'))}${exitOnError ? ' --exit-on-error' : ''} -d ${sh(c.url(targetOf(database)))} ${sh(dumpOf(database).path)}`;
      const shownRestore = (database: Database) =>
        `node bin/pgbackman.js --catalogue $PG/${DB.catalogue} restore ID --node ${NODE} --database ${targetOf(database)}`;
      const shownBare = (database: Database, exitOnError: boolean) =>
        `sh -c 'createdb -h 127.0.0.1 -p $PORT -U postgres ${targetOf(database)} && pg_restore${exitOnError ? ' --exit-on-error' : ''} -d $PG/${targetOf(database)} $DUMP/${database}.dump'`;
      const shownFloor = (database: Database) =>
        `sh -c 'node bench/sha256-floor.mjs $DUMP/${database}.dump && createdb -h 127.0.0.1 -p $PORT -U postgres ${targetOf(database)} && pg_restore --exit-on-error -d $PG/${targetOf(database)} $DUMP/${database}.dump'`;
      const trios: Trio[] = DATABASES.map((database) => ({
        database,
        restore: {
          label: `restore ${database}`,
          command: [
            'node',
            ...cli('restore', dumpOf(database).id, '--node', NODE, '--database', targetOf(database)),
          ],
          shown: shownRestore(database),
          check: succeeded(database),
          before: dropTarget(database),
        },
        bare: {
          label: `pg_restore ${database}`,
          command: ['sh', '-c', `${createdb(database)} && ${pgRestore(database, false)}`],
          shown: shownBare(database, false),
          before: dropTarget(database),
        },
        bareExit: {
          label: `pg_restore --exit-on-error ${database}`,
          command: ['sh', '-c', `${createdb(database)} && ${pgRestore(database, true)}`],
          shown: shownBare(database, true),
          before: dropTarget(database),
        },
        floor: {
          label: `floor ${database}`,
          command: [
            'sh',
            '-c',
            `${sh(process.execPath)} bench/sha256-floor.mjs ${sh(dumpOf(database).path)} >/dev/null && ${createdb(database)} && ${pgRestore(database, true)}`,
          ],
          shown: shownFloor(database),
          before: dropTarget(database),
        },
      }));
      const specs = trios.flatMap((t) => [t.restore, t.bare, t.bareExit, t.floor]);
      ctx.log(`restore: ${specs.length} commands, interleaved`);
      const warmup = ctx.warmup ?? 1;
      const group = await measureGroup(specs, {
        root: ctx.root,
        runs: ctx.runs ?? 3,
        warmup,
        log: ctx.log,
        helper: c.helper(),
      });

      // Where pgbackman's time goes, untimed by the harness: the recorded duration (from the RUNNING row to
      // the end: roles, CREATE DATABASE, pg_restore), and the check that comes before it, each step alone.
      ctx.log('restore: timing the check steps alone');
      const recordedMs = new Map<Database, number>();
      for (const [database, ids] of restoreIds) {
        const rows = await c.rowsIn<{ ms: string }>(
          DB.catalogue,
          'select duration_ms::text as ms from pgbackman.restore_runs where left(id::text, 8) = any($1::text[])',
          [ids.slice(warmup)],
        );
        recordedMs.set(database, stats(rows.map((r) => Number(r.ms))).median);
      }
      const hashMs = new Map<Database, number>();
      const listMs = new Map<Database, number>();
      const sha256sumMs = new Map<Database, number>();
      for (const database of DATABASES) {
        const { path } = dumpOf(database);
        hashMs.set(database, await timed(() => hashFile(path)));
        sha256sumMs.set(database, await timed(() => run('sha256sum', [path])));
        listMs.set(
          database,
          await timed(() => run(c.tool('pg_restore'), ['--list', path], { maxBuffer: 64 * 1024 * 1024 })),
        );
      }
      const version = await timed(() =>
        run(process.execPath, ['bin/pgbackman.js', '--version'], { cwd: ctx.root }),
      );
      await c.sql(`drop database if exists ${targetOf(DB.bench)}`);
      await c.sql(`drop database if exists ${targetOf(DB.noise)}`);

      const wall = (s: CommandSpec) => medianWall(group, s.label);
      const cpu = (s: CommandSpec) => medianOf(group, s.label, 'cpuMs');
      const small = ctx.small ? " (**`--small`**: not the issue's scale 70 and 1,500,000 rows)" : '';
      const breakdown = (t: Trio) => {
        const d = t.database;
        const recorded = recordedMs.get(d) ?? Number.NaN;
        return `${d}: wall ${ms(wall(t.restore))}, of which recorded ${ms(recorded)} (bare pg_restore ${ms(wall(t.bare))}); before the record, ${ms(wall(t.restore) - recorded)}: the re-hash of the ${mib(dumpOf(d).bytes)} dump ${ms(hashMs.get(d) ?? Number.NaN)} (\`sha256sum\` of it ${ms(sha256sumMs.get(d) ?? Number.NaN)}), \`pg_restore --list\` ${ms(listMs.get(d) ?? Number.NaN)}`;
      };
      return {
        about: [
          `The dump benchmark's cluster and databases, built the same way${small}: one throwaway PostgreSQL ${c.version} cluster (\`test/support/throwaway-postgres.ts\`: \`fsync\`, \`synchronous_commit\` and \`full_page_writes\` off; autovacuum off), reached over TCP on 127.0.0.1. \`${DB.bench}\` is \`pgbench -i -s ${scale}\` (${mib(sizes.bench)}), \`${DB.noise}\` ${fmt(noiseRows)} rows of random text and bytea (${mib(sizes.noise)}); \`${DB.catalogue}\` is the catalogue, with one BackupServer, the cluster as a PgSQLNode, and \`${DB.bench}-custom\` and \`${DB.noise}-custom\` (\`FULL\`, \`format: custom\`). Each definition is dumped once by a real \`pgbackman run\` before any measuring (custom dumps of ${mib(dumpOf(DB.bench).bytes)} and ${mib(dumpOf(DB.noise).bytes)}); every command below restores those same files into \`${targetOf(DB.bench)}\` or \`${targetOf(DB.noise)}\` of the same cluster, which is dropped (untimed) before every run, so each starts with no target database.`,
          `**restore** is \`pgbackman restore ID --node ${NODE} --database NAME\` (defaults: \`--existing fail\`, \`--roles create-missing\`, the dump's configuration, \`--jobs 1\`; not a terminal, so no progress lines): Node's start-up, the catalogue's reads, a connection to the node (the target's roles and database), the check of the dump (its files re-hashed with sha256 against the catalogue's checksums, then \`pg_restore --list\` of it), a \`RUNNING\` row in \`restore_runs\`, the roles step (the dump's only role, \`postgres\`, exists: kept), \`CREATE DATABASE\` and the rest of the dump's \`config.sql\`, \`pg_restore --dbname CONNINFO --no-password --verbose --exit-on-error FILE\` with its stderr in the restore's log, and the \`SUCCEEDED\` row. Its output is checked for \`Restore … SUCCEEDED\`.`,
          `**pg_restore** is \`sh -c 'createdb NAME && pg_restore -d NAME FILE'\` with the same binaries (\`${c.cluster.binDir}\`): **the createdb is inside the timed command**, because pgbackman's time includes creating the database too. **pg_restore --exit-on-error** is the same with that flag, which pgbackman passes, so the comparison is fair either way (on a clean restore it changes nothing). **floor** is that last command after \`node bench/sha256-floor.mjs FILE\`: Node's start and a sha256 of the dump (OpenSSL, 1 MiB reads), the least any Node program can do when, as the issue asks, the dump is re-hashed before anything on the target is touched. The four commands of a database take turns in every round, each round starting with the next; their exit codes are checked.`,
          `Where pgbackman's time goes (medians): ${trios.map(breakdown).join('; ')}. **recorded** is the restore's \`duration_ms\` in \`restore_runs\`: from its \`RUNNING\` row to the end (roles, CREATE DATABASE, pg_restore), after the check. The two check steps were each timed alone, ${STEP_PASSES} times in a row after the measured rounds (the dump then in the page cache, as it is during the runs: the previous run read it): the re-hash is \`hashFile\` (src/backup/files/hashed-file.ts, as \`verifyRun\` calls it) in the bench's own process, \`pg_restore --list\` a child process. Node's start-up and loading of the CLI (\`node bin/pgbackman.js --version\`): ${ms(version)}.`,
        ],
        reproduce: [
          `npm run bench -- restore${ctx.small ? ' --small' : ''}${ctx.runs === undefined ? '' : ` --runs ${ctx.runs}`}${ctx.warmup === undefined ? '' : ` --warmup ${ctx.warmup}`}`,
          '# by hand: the dump benchmark’s databases, catalogue and manifests (bench-custom, noise-custom), then',
          'PG=postgres://postgres@127.0.0.1:$PORT      # a PostgreSQL where you may create databases',
          `node bin/pgbackman.js --catalogue $PG/${DB.catalogue} run ${DB.bench}-custom      # ID: get backups; $DUMP: its folder`,
          `${GNU_TIME} -v ${shownRestore(DB.bench)}`,
          `psql $PG/postgres -c 'drop database ${targetOf(DB.bench)}'`,
          `${GNU_TIME} -v ${shownBare(DB.bench, false)}`,
          `psql $PG/postgres -c 'drop database ${targetOf(DB.bench)}'`,
          `${GNU_TIME} -v ${shownBare(DB.bench, true)}`,
          `psql $PG/postgres -c 'drop database ${targetOf(DB.bench)}'`,
          `${GNU_TIME} -v ${shownFloor(DB.bench)}`,
        ],
        groups: [group],
        ratios: [
          ...trios.map((t) => ({
            name: `${t.restore.label} / ${t.bare.label}, wall`,
            value: wall(t.restore) / wall(t.bare),
          })),
          ...trios.map((t) => ({
            name: `${t.restore.label} / ${t.bareExit.label}, wall`,
            value: wall(t.restore) / wall(t.bareExit),
          })),
          ...trios.map((t) => ({
            name: `${t.floor.label} / ${t.bareExit.label}, wall`,
            value: wall(t.floor) / wall(t.bareExit),
          })),
          ...trios.map((t) => ({
            name: `${t.restore.label} / ${t.floor.label}, wall`,
            value: wall(t.restore) / wall(t.floor),
          })),
          ...trios.map((t) => ({
            name: `${t.restore.label} recorded duration / ${t.bare.label}, wall`,
            value: (recordedMs.get(t.database) ?? Number.NaN) / wall(t.bare),
          })),
          ...trios.map((t) => ({
            name: `${t.restore.label} / ${t.bare.label}, CPU`,
            value: cpu(t.restore) / cpu(t.bare),
          })),
        ],
        targets: [
          ...trios.map((t) =>
            target(
              `${t.restore.label} / ${t.bare.label}, median wall time`,
              wall(t.restore) / wall(t.bare),
              OVERHEAD_RATIO,
              '×',
            ),
          ),
          ...trios.map((t) =>
            target(
              `${t.restore.label} / ${t.bareExit.label}, median wall time`,
              wall(t.restore) / wall(t.bareExit),
              OVERHEAD_RATIO,
              '×',
            ),
          ),
        ],
      };
    } finally {
      release();
      ctx.log('restore: stopping the throwaway PostgreSQL');
      await c.stop();
      rmSync(scratch, { recursive: true, force: true });
    }
  },
};

export default benchmark;
