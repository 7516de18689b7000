// `pgbackman plan` and `apply` on 23,050 manifests against a PostgreSQL catalogue in a throwaway cluster:
// apply from empty, plan with no changes, plan with 1% changed, apply of that 1%; against the floor of parsing
// the same files plus one `select` of every object row; and how many SQL statements each makes.
import { execFile } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import {
  CHANGE_EVERY,
  CHANGED_DIR,
  CHANGED_SCHEDULE,
  type ChangedStamp,
  ensureChangedFixture,
} from './changed-fixture.ts';
import { describeFixture, ensureFixture, FIXTURE_DIR, type FixtureStamp } from './generate-fixture.ts';
import {
  type BenchContext,
  type Benchmark,
  type CommandSpec,
  display,
  GNU_TIME,
  measureGroup,
  medianWall,
  type Target,
  target,
} from './harness.ts';
import { BenchServer, stopOnSignal } from './server-helpers.ts';

const APPLY_EMPTY_LIMIT_MS = 5000;
const PLAN_LIMIT_MS = 2000;
const PLAN_FLOOR_RATIO = 2;
/**
 * "No per-object round trips": a few statements per kind (six kinds) and a fixed handful around them, whatever
 * the number of objects. One statement per object would be 23,050.
 */
const STATEMENT_LIMIT = 50;

/** Databases in the throwaway cluster. */
const DB = {
  /** Migrated, no objects: the template of every "apply from empty". */
  empty: 'tpl_empty',
  /** The fixture applied: the template of every "apply of the 1%". */
  full: 'tpl_full',
  /** A clone of tpl_full that the plans and the floor read (they change nothing). */
  applied: 'applied',
  /** Cloned afresh before each timed run. */
  runEmpty: 'run_empty',
  runChanged: 'run_1pct',
  /** A clone with log_statement = 'all', for counting statements. */
  count: 'count_statements',
} as const;

/** One measured command, on its own database. */
interface Command {
  readonly label: string;
  /** The database it runs on: cloned from `template` before every run when it writes, else shared. */
  readonly database: string;
  readonly template: string;
  /** Objects it writes. */
  readonly writes: number;
  /** Node's argv, given the database's URL. */
  readonly argv: (url: string) => string[];
  readonly check: (stdout: string) => string | undefined;
}

let fixture: FixtureStamp | undefined;
let changed: ChangedStamp | undefined;

function total(s: FixtureStamp): number {
  return Object.values(s.counts).reduce((a, b) => a + b, 0);
}

const run = promisify(execFile);

/** Runs `node ARGV` in the repository (untimed: setting up, counting); returns its stdout, throws on failure. */
async function node(root: string, argv: readonly string[]): Promise<string> {
  const { NODE_OPTIONS: _ignored, ...env } = process.env;
  try {
    const { stdout } = await run(process.execPath, argv, {
      cwd: root,
      env: { ...env, NO_COLOR: '1' },
      maxBuffer: 256 * 1024 * 1024,
    });
    return stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message?: string };
    const tail = `${e.stdout ?? ''}${e.stderr ?? ''}`.trim().split('\n').slice(-10).join('\n');
    throw new Error(`node ${display(argv)} failed: ${e.message ?? String(err)}\n${tail}`, { cause: err });
  }
}

/** Throws when a check finds a problem with an untimed run's output. */
function must(check: (stdout: string) => string | undefined, stdout: string, what: string): void {
  const problem = check(stdout);
  if (problem !== undefined) throw new Error(`${what}: ${problem}`);
}

/** The throwaway cluster, an admin connection to it, and what the benchmark does with databases. */
class Catalogues extends BenchServer {
  static async start(): Promise<Catalogues> {
    return new Catalogues(await BenchServer.open('bench'));
  }

  /** A fresh database `name` cloned from `template` (any older one is dropped, its sessions ended). */
  async clone(name: string, template: string): Promise<void> {
    await this.sql(`drop database if exists ${name} with (force)`);
    await this.sql(`create database ${name} template ${template}`);
  }

  /** Makes `name` a template nobody connects to (autovacuum included), so cloning it never waits. */
  async freeze(name: string): Promise<void> {
    await this.sql(`alter database ${name} with is_template true allow_connections false`);
  }

  async vacuumAnalyze(name: string): Promise<void> {
    const c = new pg.Client({ connectionString: this.url(name) });
    await c.connect();
    try {
      await c.query('vacuum analyze');
    } finally {
      await c.end();
    }
  }

  /**
   * Sets log_statement = 'all' on `database` (bind parameters left out), runs `fn` (commands on it) and
   * returns the statements the server logged meanwhile: one per simple query ("statement:") or
   * extended-protocol execution ("execute ...:"), so one per round trip. Only that database logs.
   */
  async statements(database: string, fn: () => Promise<void>): Promise<string[]> {
    await this.sql(`alter database ${database} set log_statement = 'all'`);
    await this.sql(`alter database ${database} set log_parameter_max_length = 0`);
    const log = join(this.cluster.dir, 'server.log');
    const from = statSync(log).size;
    await fn();
    return readFileSync(log)
      .subarray(from)
      .toString('utf8')
      .split('\n')
      .flatMap((line) => {
        const m = /\bLOG: {2}(?:statement|execute [^:]*): (.*)$/.exec(line);
        return m === null ? [] : [m[1] ?? ''];
      });
  }
}

const benchmark: Benchmark = {
  id: 'catalogue',
  title: 'Plan and apply against a PostgreSQL catalogue',

  prepare(ctx: BenchContext) {
    fixture = ensureFixture({ log: ctx.log });
    changed = ensureChangedFixture(fixture, { log: ctx.log });
  },

  async run(ctx: BenchContext) {
    const stamp = fixture ?? ensureFixture({ log: ctx.log });
    const delta = changed ?? ensureChangedFixture(stamp, { log: ctx.log });
    const dir = relative(ctx.root, FIXTURE_DIR);
    const changedDir = relative(ctx.root, CHANGED_DIR);
    const manifests = total(stamp);
    const n = delta.changed;
    const fmt = (v: number) => v.toLocaleString('en-US');
    const expect = (what: string, text: string) => (stdout: string) =>
      stdout.includes(text) ? undefined : `expected ${what} ("${text}"), got: ${stdout.trim().slice(-300)}`;
    const pgbackman =
      (...args: string[]) =>
      (url: string) => ['bin/pgbackman.js', '--catalogue', url, ...args];
    const applyEmpty: Command = {
      label: 'apply from empty',
      database: DB.runEmpty,
      template: DB.empty,
      writes: manifests,
      argv: pgbackman('apply', dir, '--auto-approve'),
      check: expect('every manifest added', `Objects: ${manifests} added, 0 changed, 0 destroyed.`),
    };
    const planNone: Command = {
      label: 'plan, no changes',
      database: DB.applied,
      template: DB.full,
      writes: 0,
      argv: pgbackman('plan', dir),
      check: expect('no changes', 'No changes.'),
    };
    const planChanged: Command = {
      label: 'plan, 1% changed',
      database: DB.applied,
      template: DB.full,
      writes: 0,
      argv: pgbackman('plan', changedDir),
      check: expect(`${n} changes`, `Plan: 0 to add, ${n} to change, 0 to destroy.`),
    };
    const applyChanged: Command = {
      label: 'apply of the 1%',
      database: DB.runChanged,
      template: DB.full,
      writes: n,
      argv: pgbackman('apply', changedDir, '--auto-approve'),
      check: expect(`${n} changed`, `Objects: 0 added, ${n} changed, 0 destroyed.`),
    };
    const floor: Command = {
      label: 'floor (parse + 1 select)',
      database: DB.applied,
      template: DB.full,
      writes: 0,
      argv: (url) => ['bench/catalogue-floor.mjs', dir, url],
      check: expect(
        'every document parsed and row read',
        `${manifests} documents in ${stamp.files} files, ${manifests} rows`,
      ),
    };
    const commands = [applyEmpty, planNone, planChanged, applyChanged, floor];

    ctx.log('catalogue: starting a throwaway PostgreSQL');
    const pgc = await Catalogues.start();
    const release = stopOnSignal(() => pgc.stop());
    try {
      ctx.log(`catalogue: PostgreSQL ${pgc.version} on port ${pgc.cluster.port}; preparing the templates`);
      await pgc.sql(`create database ${DB.empty}`);
      await node(ctx.root, ['bin/pgbackman.js', '--catalogue', pgc.url(DB.empty), 'catalogue', 'migrate']);
      await pgc.freeze(DB.empty);
      await pgc.clone(DB.full, DB.empty);
      must(applyEmpty.check, await node(ctx.root, applyEmpty.argv(pgc.url(DB.full))), 'applying the fixture');
      await pgc.vacuumAnalyze(DB.full);
      await pgc.freeze(DB.full);
      await pgc.clone(DB.applied, DB.full);

      // Round trips: each command once more, untimed, on a fresh clone whose statements the server logs.
      ctx.log(`catalogue: counting statements (log_statement = 'all' on ${DB.count})`);
      const statements = new Map<Command, string[]>();
      for (const c of commands) {
        await pgc.clone(DB.count, c.template);
        const logged = await pgc.statements(DB.count, async () =>
          must(c.check, await node(ctx.root, c.argv(pgc.url(DB.count))), `${c.label} (counting statements)`),
        );
        statements.set(c, logged);
      }
      await pgc.sql(`drop database ${DB.count} with (force)`);
      const count = (c: Command) => statements.get(c)?.length ?? Number.NaN;

      const specs: CommandSpec[] = commands.map((c) => ({
        label: c.label,
        command: ['node', ...c.argv(pgc.url(c.database))],
        shown: display(['node', ...c.argv(`@PG@/${c.database}`)]).replace('@PG@', '$PG'),
        check: c.check,
        ...(c.database === DB.applied ? {} : { before: () => pgc.clone(c.database, c.template) }),
      }));
      ctx.log(`catalogue: ${specs.length} commands, interleaved`);
      const group = await measureGroup(specs, {
        root: ctx.root,
        runs: ctx.runs ?? 5,
        warmup: ctx.warmup ?? 1,
        log: ctx.log,
        helper: pgc.helper(),
      });
      const wall = (c: Command) => medianWall(group, c.label);
      const short = (sql: string) => {
        const one = sql.replace(/\s+/g, ' ').trim();
        return one.length > 100 ? `${one.slice(0, 97)}...` : one;
      };
      const counted = (c: Command): Target =>
        target(
          `${c.label}, SQL statements${c.writes > 0 ? ` (${fmt(c.writes)} objects written)` : ''}`,
          count(c),
          STATEMENT_LIMIT,
          'statements',
        );
      const reproduce = (c: Command) =>
        `${GNU_TIME} -v ${display(['node', ...c.argv(`@PG@/${DB.runEmpty}`)]).replace('@PG@', '$PG')}`;
      return {
        about: [
          `Input: \`${dir}\`, written by \`bench/generate-fixture.ts\` (seeded, generator ${stamp.generator}): ${describeFixture(stamp)}. **1% changed** is \`${changedDir}\`, derived by \`bench/changed-fixture.ts\`: the same files with the \`schedule:\` of every ${CHANGE_EVERY}th BackupDefinition (in file order) set to \`${CHANGED_SCHEDULE}\`, so ${fmt(n)} of the ${fmt(manifests)} manifests differ.`,
          `Catalogue: one throwaway PostgreSQL ${pgc.version} cluster for the whole benchmark (\`test/support/throwaway-postgres.ts\`: initdb into a temp directory; \`fsync\`, \`synchronous_commit\` and \`full_page_writes\` off), reached over TCP on 127.0.0.1; autovacuum is off, so no background vacuum lands in a later run. \`${DB.empty}\` is a catalogue after \`catalogue migrate\`; \`${DB.full}\` a clone of it with the fixture applied, then \`vacuum analyze\`d (as autovacuum would have). Before every run of **${applyEmpty.label}**, untimed, \`${DB.runEmpty}\` is dropped and cloned afresh from \`${DB.empty}\` (\`create database ... template\`); before every **${applyChanged.label}**, \`${DB.runChanged}\` from \`${DB.full}\`. The plans and the floor read \`${DB.applied}\`, a clone of \`${DB.full}\` that nothing changes. Each run's output is checked: ${fmt(manifests)} added; "No changes."; "Plan: 0 to add, ${fmt(n)} to change, 0 to destroy."; ${fmt(n)} changed; ${fmt(manifests)} documents parsed and ${fmt(manifests)} rows read.`,
          `**Floor** is \`bench/catalogue-floor.mjs\`: find the same files, read them and parse each with js-yaml's \`loadAll\` (\`CORE_SCHEMA\`, the parser of validate's fast path), then ONE \`select name, spec, labels, annotations, spec_hash from ... union all ...\` of the six object tables with \`pg\` (rows decoded, jsonb parsed), and exit. A plan must at least parse every file and learn every object's state; this select fetches whole rows, more than plan's own reads (every name and hash, whole rows only where the hashes differ), hence its larger PostgreSQL CPU.`,
          [
            `**Round trips**: each command once more, untimed, on a fresh clone (\`${DB.count}\`) with \`log_statement = 'all'\`, counting the statements the server logged: one per simple query or extended-protocol execution, so one per round trip. Bounded by the number of kinds, not of objects:`,
            '',
            '| command | objects written | SQL statements |',
            '| --- | --- | --- |',
            ...commands.map((c) => `| ${c.label} | ${fmt(c.writes)} | ${count(c)} |`),
            '',
            `The statements of **${applyEmpty.label}**, in order (whitespace folded, cut at 100 characters):`,
            '',
            '```sql',
            ...(statements.get(applyEmpty) ?? []).map(short),
            '```',
          ].join('\n'),
        ],
        reproduce: [
          'npm run bench                      # every benchmark; npm run bench -- catalogue for this one',
          'node --import tsx bench/changed-fixture.ts   # the fixture and its 1% copy (skipped when up to date)',
          'PG=postgres://postgres@127.0.0.1:5432      # a PostgreSQL where you may create databases',
          `psql $PG/postgres -c 'create database ${DB.runEmpty}'`,
          `node bin/pgbackman.js --catalogue $PG/${DB.runEmpty} catalogue migrate`,
          ...[applyEmpty, planNone, planChanged, floor, applyChanged].map(reproduce),
        ],
        groups: [group],
        ratios: [
          { name: `${planNone.label} / floor`, value: wall(planNone) / wall(floor) },
          { name: `${planChanged.label} / floor`, value: wall(planChanged) / wall(floor) },
          { name: `${applyChanged.label} / floor`, value: wall(applyChanged) / wall(floor) },
          { name: `${applyEmpty.label} / floor`, value: wall(applyEmpty) / wall(floor) },
          {
            name: `${applyChanged.label} / ${planChanged.label}`,
            value: wall(applyChanged) / wall(planChanged),
          },
        ],
        targets: [
          target(`${applyEmpty.label}, median wall time`, wall(applyEmpty), APPLY_EMPTY_LIMIT_MS, 'ms'),
          target(`${planNone.label}, median wall time`, wall(planNone), PLAN_LIMIT_MS, 'ms'),
          target(`${planNone.label} / floor`, wall(planNone) / wall(floor), PLAN_FLOOR_RATIO, '×'),
          target(`${planChanged.label}, median wall time`, wall(planChanged), PLAN_LIMIT_MS, 'ms'),
          target(`${planChanged.label} / floor`, wall(planChanged) / wall(floor), PLAN_FLOOR_RATIO, '×'),
          ...[applyEmpty, planNone, planChanged, applyChanged].map(counted),
        ],
      };
    } finally {
      release();
      ctx.log('catalogue: stopping the throwaway PostgreSQL');
      await pgc.stop();
    }
  },
};

export default benchmark;
