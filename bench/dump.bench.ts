// `pgbackman run` (one dump now: pg_dump writes the file, hashed with Node's sha256, fsync, rename, plus
// roles.sql and config.sql, recorded in the catalogue) against a bare `pg_dump` to a file, side by side, on a
// pgbench database (scale 70, about 1 GB, whose dump compresses to almost nothing) and on a database of
// random text and bytea that does not compress away; custom format, and directory format with 2 jobs.
import { mkdirSync, mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  type Target,
  target,
} from './harness.ts';
import { stopOnSignal } from './server-helpers.ts';

/** "Overhead ≤ 5 % over bare pg_dump including checksums." */
const OVERHEAD_RATIO = 1.05;
/**
 * "Executor memory flat (streams, no buffering of dumps)": pgbackman's peak RSS on the incompressible database
 * (a dump about ten times larger) over its peak RSS on pgbench's. Buffering any part of a dump would show here.
 */
const RSS_FLAT_RATIO = 1.1;
/** Refuse to start with less free space than this under the scratch directory (dumps, two clusters' worth). */
const MIN_FREE_BYTES = 10 * 1024 ** 3;

/** The manifests: one server whose root is `root`, the cluster as a node, four definitions. */
function manifests(root: string, port: number): string {
  return yamlFile([
    ...serverAndNode(root, port),
    definitionDoc(DB.bench, 'custom'),
    definitionDoc(DB.bench, 'directory', ['  jobs: 2']),
    definitionDoc(DB.noise, 'custom'),
    definitionDoc(DB.noise, 'directory', ['  jobs: 2']),
  ]);
}

const mib = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(0)} MiB`;
const fmt = (v: number) => v.toLocaleString('en-US');

/** A measured pair: pgbackman's run of a definition and the bare pg_dump of the same database and format. */
interface Pair {
  readonly database: Database;
  readonly format: 'custom' | 'directory';
  readonly run: CommandSpec;
  readonly bare: CommandSpec;
}

function medianOf(group: MeasuredGroup, label: string, what: 'cpuMs' | 'maxRssKiB' | 'helperCpuMs'): number {
  const m = group.measurements.find((x) => x.spec.label === label);
  if (m === undefined) throw new Error(`no measurement labelled "${label}"`);
  return stats(m[what]).median;
}

const benchmark: Benchmark = {
  id: 'dump',
  title: 'Dumps: pgbackman run against a bare pg_dump',

  async run(ctx: BenchContext) {
    const { scale, noiseRows } = scaleOf(ctx);
    const scratch = mkdtempSync(join(tmpdir(), 'pgbackman-bench-dump-'));
    const free = (() => {
      const s = statfsSync(scratch);
      return s.bavail * s.bsize;
    })();
    if (free < MIN_FREE_BYTES) {
      rmSync(scratch, { recursive: true, force: true });
      throw new Error(
        `dump: only ${mib(free)} free under ${scratch}; this benchmark wants ${mib(MIN_FREE_BYTES)}`,
      );
    }
    const root = join(scratch, 'root');
    const bare = join(scratch, 'bare');
    const manifestDir = join(scratch, 'manifests');
    mkdirSync(root, { recursive: true });
    mkdirSync(bare, { recursive: true });
    mkdirSync(manifestDir, { recursive: true });

    ctx.log(`dump: starting a throwaway PostgreSQL (${mib(free)} free under ${scratch})`);
    const c = await DumpCluster.start('bench-dump');
    const release = stopOnSignal(async () => {
      await c.stop();
      rmSync(scratch, { recursive: true, force: true });
    });
    try {
      const port = c.cluster.port;
      const sizes = await buildDatabases(c, ctx.root, (l) => ctx.log(`dump: ${l}`), scale, noiseRows);

      ctx.log('dump: migrating the catalogue and applying the manifests');
      const catalogue = c.url(DB.catalogue);
      await c.sql(`create database ${DB.catalogue}`);
      writeFileSync(join(manifestDir, 'bench.yaml'), manifests(root, port));
      const cli = (...args: string[]) => ['bin/pgbackman.js', '--catalogue', catalogue, ...args];
      await exec(process.execPath, cli('catalogue', 'migrate'), ctx.root);
      await exec(process.execPath, cli('apply', manifestDir, '--auto-approve'), ctx.root);

      /** Every run's backup id, per definition, warm-ups first: their recorded durations are the executor's time. */
      const runIds = new Map<string, string[]>();
      const succeeded = (name: string) => (stdout: string) => {
        const id = /^Backup (\S+) SUCCEEDED: /m.exec(stdout)?.[1];
        if (id === undefined) return `expected "SUCCEEDED", got: ${stdout.trim().slice(-300)}`;
        runIds.set(name, [...(runIds.get(name) ?? []), id]);
        return undefined;
      };
      /** Removes every dump pgbackman took of `database` (untimed), so the disk does not fill. */
      const clearRuns = async (database: Database) => {
        rmSync(join(root, NODE, database), { recursive: true, force: true });
      };
      const shownRun = (name: string) => `node bin/pgbackman.js --catalogue $PG/${DB.catalogue} run ${name}`;
      const pairs: Pair[] = [];
      for (const database of [DB.bench, DB.noise] as const) {
        for (const format of ['custom', 'directory'] as const) {
          const name = `${database}-${format}`;
          const out = join(bare, format === 'custom' ? `${database}.dump` : `${database}.dir`);
          const flags = format === 'custom' ? ['-Fc'] : ['-Fd', '-j2'];
          pairs.push({
            database,
            format,
            run: {
              label: `run ${name}`,
              command: ['node', ...cli('run', name)],
              shown: shownRun(name),
              check: succeeded(name),
              before: () => clearRuns(database),
            },
            bare: {
              label: `pg_dump ${name}`,
              command: [c.tool('pg_dump'), ...flags, '-f', out, '--dbname', c.url(database)],
              shown: `pg_dump ${flags.join(' ')} -f $OUT/${database}.${format === 'custom' ? 'dump' : 'dir'} --dbname $PG/${database}`,
              before: async () => rmSync(out, { recursive: true, force: true }),
            },
          });
        }
      }
      const specs = pairs.flatMap((p) => [p.run, p.bare]);
      ctx.log(`dump: ${specs.length} commands, interleaved`);
      const group = await measureGroup(specs, {
        root: ctx.root,
        runs: ctx.runs ?? 3,
        warmup: ctx.warmup ?? 1,
        log: ctx.log,
        helper: c.helper(),
      });

      // The sizes of the last dumps (pgbackman's line says its size; the bare ones are still on disk).
      const dumpSizes = new Map<string, string>();
      for (const p of pairs) {
        const m = group.measurements.find((x) => x.spec === p.run);
        const said = /SUCCEEDED: .*, ([\d.]+ \S+) in /.exec(m?.stdout ?? '');
        dumpSizes.set(`${p.database}-${p.format}`, said?.[1] ?? '?');
      }

      // The executor's own time, as the agent will spend it in its long-lived process: the run's recorded
      // duration (lock taken to dump renamed into place), without Node's start-up and the catalogue reads.
      const executorMs = new Map<string, number>();
      for (const [name, ids] of runIds) {
        const measured = ids.slice(ctx.warmup ?? 1);
        const rows = await c.rowsIn<{ ms: string }>(
          DB.catalogue,
          'select duration_ms::text as ms from pgbackman.backup_runs where id = any($1::uuid[])',
          [measured],
        );
        executorMs.set(name, stats(rows.map((r) => Number(r.ms))).median);
      }
      const executor = (p: Pair) =>
        (executorMs.get(`${p.database}-${p.format}`) ?? Number.NaN) / wall(p.bare);
      const wall = (s: CommandSpec) => medianWall(group, s.label);
      const cpu = (s: CommandSpec) => medianOf(group, s.label, 'cpuMs');
      const rss = (s: CommandSpec) => medianOf(group, s.label, 'maxRssKiB');
      const pair = (database: Database, format: 'custom' | 'directory') =>
        pairs.find((p) => p.database === database && p.format === format) as Pair;
      const flat = (format: 'custom' | 'directory'): Target =>
        target(
          `${pair(DB.noise, format).run.label} / ${pair(DB.bench, format).run.label}, peak RSS`,
          rss(pair(DB.noise, format).run) / rss(pair(DB.bench, format).run),
          RSS_FLAT_RATIO,
          '×',
        );
      return {
        about: [
          `Node and catalogue: one throwaway PostgreSQL ${c.version} cluster for the whole benchmark (\`test/support/throwaway-postgres.ts\`: initdb into a temp directory; \`fsync\`, \`synchronous_commit\` and \`full_page_writes\` off), reached over TCP on 127.0.0.1, autovacuum off. \`${DB.bench}\` is \`pgbench -i -s ${scale}\` (${mib(sizes.bench)}; its \`filler\` columns are blanks, so its custom dump is only ${dumpSizes.get('bench-custom')}). \`${DB.noise}\` is one table of ${fmt(noiseRows)} rows, each a \`text\` of 128 random hex digits (four \`md5(random()::text)\`) and a \`bytea\` of 64 random bytes (${mib(sizes.noise)}): COPY writes both as hex, which gzip can only halve, so its custom dump is ${dumpSizes.get('noise-custom')}. \`${DB.catalogue}\`, a third database, is pgbackman's catalogue: one BackupServer, the cluster as a PgSQLNode, and four BackupDefinitions (\`FULL\`, \`format: custom\`, and \`format: directory\` with \`jobs: 2\`, for each database). The databases are built once, before any measuring.`,
          `**run** is \`pgbackman run DEFINITION\`: pg_dump (\`--format=c\` or \`--format=d --jobs=2\`) into \`….partial/\` under the server's root, the custom dump written by pg_dump itself (\`--file\`) and hashed once it is closed, while it is synced, and the directory dump's files followed and hashed while pg_dump writes them, fsync, rename; plus \`roles.sql\` (\`pg_dumpall --roles-only\`, filtered) and \`config.sql\` (from the query that asked the node before the dump: its database-level statements), and a \`RUNNING\` then \`SUCCEEDED\` row in the catalogue. **pg_dump** is the same pg_dump (\`${c.cluster.binDir}\`) writing the same format to a file itself (\`-Fc -f\` or \`-Fd -j2 -f\`; pg_dump fsyncs its output too). Before every run, untimed, the previous output is deleted (pgbackman's dump directories of that database, or pg_dump's file or directory), so every run writes new files. Each pgbackman run's output is checked for \`SUCCEEDED\`.`,
          `Peak RSS of **run** is the largest of Node and the tools it starts (GNU time reports the largest descendant's); it is Node's, pg_dump's being smaller. Memory is flat when it does not grow with the dump: compare ${DB.bench} (a dump of ${dumpSizes.get('bench-custom')}) with ${DB.noise} (${dumpSizes.get('noise-custom')}). On 2 CPUs pg_dump and the server's COPY already keep both busy, so pgbackman's own CPU time (its CPU median minus pg_dump's) is on the critical path.`,
          `**executor** is the same runs' recorded \`duration_ms\` (from the run lock to the dump renamed into place, roles and configuration included; the median of the measured runs): the time the agent's long-lived process spends on a dump, which \`pgbackman run\` adds a fixed cost to (Node's start-up and module loading, about 150 ms on this machine, and the catalogue's connection and reads, about 20 ms).`,
        ],
        reproduce: [
          'npm run bench                      # every benchmark; npm run bench -- dump for this one',
          'PG=postgres://postgres@127.0.0.1:5432      # a PostgreSQL where you may create databases',
          `psql $PG/postgres -c 'create database ${DB.bench}' -c 'create database ${DB.catalogue}'`,
          `pgbench -i -q -s ${scale} $PG/${DB.bench}`,
          `node bin/pgbackman.js --catalogue $PG/${DB.catalogue} catalogue migrate`,
          `node bin/pgbackman.js --catalogue $PG/${DB.catalogue} apply DIR --auto-approve   # DIR: the manifests above`,
          `${GNU_TIME} -v ${shownRun('bench-custom')}`,
          `${GNU_TIME} -v pg_dump -Fc -f $OUT/${DB.bench}.dump --dbname $PG/${DB.bench}`,
          `${GNU_TIME} -v ${shownRun('bench-directory')}`,
          `${GNU_TIME} -v pg_dump -Fd -j2 -f $OUT/${DB.bench}.dir --dbname $PG/${DB.bench}`,
        ],
        groups: [group],
        ratios: [
          ...pairs.map((p) => ({
            name: `${p.run.label} / ${p.bare.label}, wall`,
            value: wall(p.run) / wall(p.bare),
          })),
          ...pairs.map((p) => ({
            name: `executor ${p.database}-${p.format} (recorded duration) / ${p.bare.label}, wall`,
            value: executor(p),
          })),
          ...pairs.map((p) => ({
            name: `${p.run.label} / ${p.bare.label}, CPU`,
            value: cpu(p.run) / cpu(p.bare),
          })),
          ...(['custom', 'directory'] as const).map((f) => ({
            name: `${pair(DB.noise, f).run.label} / ${pair(DB.bench, f).run.label}, peak RSS`,
            value: rss(pair(DB.noise, f).run) / rss(pair(DB.bench, f).run),
          })),
        ],
        targets: [
          ...pairs.map((p) =>
            target(
              `${p.run.label} / ${p.bare.label}, median wall time`,
              wall(p.run) / wall(p.bare),
              OVERHEAD_RATIO,
              '×',
            ),
          ),
          ...pairs.map((p) =>
            target(
              `executor ${p.database}-${p.format} (recorded duration) / ${p.bare.label}, median wall time`,
              executor(p),
              OVERHEAD_RATIO,
              '×',
            ),
          ),
          flat('custom'),
          flat('directory'),
        ],
      };
    } finally {
      release();
      ctx.log('dump: stopping the throwaway PostgreSQL');
      await c.stop();
      rmSync(scratch, { recursive: true, force: true });
    }
  },
};

export default benchmark;
