// Issue 17's reports: "`stats` and filtered `get backups` on a catalogue of 1,000,000 runs: ≤ 100 ms each (the
// indexes shown by EXPLAIN in the notes); the status page with 20,000 definitions rendered ≤ 200 ms". The
// retention benchmark's fixture (20,000 definitions, 50 runs each), all moved onto one server, in a throwaway
// PostgreSQL; the statements are timed in this process (what the commands and the agent send), the commands
// as whole processes against a floor.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { type BackupFilter, listBackups } from '../src/catalogue/backup-runs.ts';
import type { Queryable } from '../src/catalogue/catalogue-db.ts';
import { compactRunTallies, fleetCounts, recentProblems, tallyKeptRuns } from '../src/catalogue/run-stats.ts';
import { statsReport } from '../src/report/stats-report.ts';
import { PAGE_ROWS, renderStatusPage } from '../src/status/render-status-page.ts';
import { pageSizes, statusPageData } from '../src/status/status-page-data.ts';
import { DumpCluster, exec } from './dump-databases.ts';
import { type BenchContext, type Benchmark, measureGroup, medianWall, stats, target } from './harness.ts';
import {
  createDefsSql,
  DEFINITIONS,
  definitionColumns,
  fixtureDefinitions,
  insertRunsSql,
  writeManifests,
} from './retention-fixture.ts';
import { stopOnSignal } from './server-helpers.ts';

const STATEMENT_LIMIT_MS = 100;
const PAGE_LIMIT_MS = 200;
const ROUNDS = 15;
const SERVER = 'rb-01';
const ms = (v: number) => `${v.toFixed(1)} ms`;

/** Median of `rounds` timed calls of `fn`, after two untimed ones. */
async function timed(fn: () => Promise<unknown>, rounds = ROUNDS): Promise<ReturnType<typeof stats>> {
  await fn();
  await fn();
  const t: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const start = performance.now();
    await fn();
    t.push(performance.now() - start);
  }
  return stats(t);
}

const benchmark: Benchmark = {
  id: 'reports',
  title: 'Reports: stats, get backups and the status page on 1,000,000 runs',

  async run(ctx: BenchContext) {
    const count = ctx.small ? DEFINITIONS.small : DEFINITIONS.full;
    const scratch = mkdtempSync(join(tmpdir(), 'pgbackman-bench-reports-'));
    const c = await DumpCluster.start('bench-reports');
    const release = stopOnSignal(async () => {
      await c.stop();
      rmSync(scratch, { recursive: true, force: true });
    });
    const client = new pg.Client({ connectionString: c.url('catalogue') });
    try {
      await c.sql('create database catalogue');
      const url = c.url('catalogue');
      await exec(
        process.execPath,
        ['bin/pgbackman.js', '--catalogue', url, 'catalogue', 'migrate'],
        ctx.root,
      );
      ctx.log(`reports: applying ${count.toLocaleString('en-US')} definitions`);
      writeManifests(join(scratch, 'manifests'), count);
      await exec(
        process.execPath,
        ['bin/pgbackman.js', '--catalogue', url, 'apply', join(scratch, 'manifests'), '--auto-approve'],
        ctx.root,
      );
      await client.connect();
      const q: Queryable = {
        query: async (sql, params) => (await client.query(sql, params as unknown[])).rows,
        exec: async (sql) => {
          await client.query(sql);
        },
      };
      const runsStart = performance.now();
      await client.query(createDefsSql, definitionColumns(fixtureDefinitions(count)));
      await client.query(insertRunsSql, [new Date().toISOString()]);
      // One server holds them all (the page's 20,000 definitions); retention has deleted the runs older than
      // 20 days but the pinned ones; a third of what is kept was verified.
      await client.query(`update pgbackman.backup_definitions set server = '${SERVER}'`);
      await client.query(`update pgbackman.backup_runs set server = '${SERVER}'`);
      await client.query(
        `update pgbackman.backup_runs set deletion = 'DELETED', deleted_at = now()
          where started_at < now() - interval '20 days' and pinned_at is null`,
      );
      await client.query(
        `update pgbackman.backup_runs set verify_status = 'OK', verified_at = now()
          where deletion is null and status = 'SUCCEEDED' and abs(hashtext(id::text)) % 3 = 0`,
      );
      await compactRunTallies(
        { ...q, kind: 'postgres', location: url, transaction: (fn) => fn(q), close: async () => undefined },
        SERVER,
      );
      await client.query('vacuum analyze');
      const prepMs = performance.now() - runsStart;
      const [shape] = (
        await client.query<Record<string, string>>(
          `select count(*)::text as runs, count(*) filter (where deletion is null)::text as kept,
                  count(*) filter (where status = 'FAILED')::text as failed,
                  (select count(*) from pgbackman.run_tallies)::text as tallies,
                  pg_size_pretty(pg_total_relation_size('pgbackman.backup_runs')) as size
             from pgbackman.backup_runs`,
        )
      ).rows;
      ctx.log(`reports: ${shape?.runs} runs (${shape?.kept} kept), ${shape?.size}; timing the statements`);

      const now = new Date();
      const statsOf = (scope: { server?: string; node?: string }) => async () =>
        statsReport({
          scope,
          now,
          counts: await fleetCounts(q, scope),
          tallies: await tallyKeptRuns(q, scope),
          problems: await recentProblems(q, scope, now),
        });
      const node = `${SERVER}-pg03`;
      const statsAll = await timed(statsOf({}));
      const statsServer = await timed(statsOf({ server: SERVER }));
      const statsNode = await timed(statsOf({ node }));
      const filters: [string, BackupFilter][] = [
        ['--status FAILED', { status: 'FAILED' }],
        [`--node ${node}`, { node }],
        ['--since 7d', { since: new Date(Date.now() - 7 * 86_400_000) }],
        ['--verify OK --status SUCCEEDED', { verify: 'OK', status: 'SUCCEEDED' }],
        [`--server ${SERVER} --database app0042`, { server: SERVER, database: 'app0042' }],
        ['--all (deleted too)', { includeDeleted: true }],
      ];
      const gets: [string, ReturnType<typeof stats>][] = [];
      for (const [label, f] of filters) gets.push([label, await timed(() => listBackups(q, f))]);
      const pageData = () =>
        statusPageData(q, { server: SERVER, version: 'bench', refreshSeconds: 30, now: new Date() });
      const data = await pageData();
      // A request: the page's rows' size charts read, then the page rendered from the data last read.
      const request = async (n: number) => {
        const shown = data.entries.slice((n - 1) * PAGE_ROWS, n * PAGE_ROWS).map((e) => e.name);
        return renderStatusPage({ ...data, sizes: await pageSizes(q, SERVER, shown) }, n);
      };
      const page = await timed(() => request(1));
      const lastPage = Math.ceil(count / PAGE_ROWS);
      const pageLast = await timed(() => request(lastPage));
      const read = await timed(pageData, 5);
      const html = await request(1);
      if (data.entries.length !== count) throw new Error(`the page knows ${data.entries.length} definitions`);
      if (!html.includes(`of ${count} (page 1 of ${lastPage})`))
        throw new Error('the page does not say how many');

      // What EXPLAIN says each is answered from.
      const plan = async (sql: string, params: unknown[] = []) => {
        const rows = (await client.query<{ 'QUERY PLAN': string }>(`explain ${sql}`, params)).rows;
        return (
          [
            ...new Set(rows.flatMap((r) => [...r['QUERY PLAN'].matchAll(/using (\w+)/g)].map((m) => m[1]))),
          ].join(', ') || 'seq scan'
        );
      };
      const explained = {
        tallies: await plan(
          'select server, node, status, sum(dumps) from pgbackman.run_tallies group by 1, 2, 3',
        ),
        probes: await plan(
          `select min(started_at) from pgbackman.backup_runs where server = $1 and node = $2 and deletion is null and status in ('SUCCEEDED', 'SUCCEEDED_PARTIAL')`,
          [SERVER, node],
        ),
        problems: await plan(
          `select count(*) from pgbackman.backup_runs where status in ('FAILED', 'MISSED') and started_at >= now() - interval '7 days'`,
        ),
        failed: await plan(
          `select id from pgbackman.backup_runs where status = 'FAILED' and deletion is distinct from 'DELETED' order by started_at desc limit 100`,
        ),
        byNode: await plan(
          `select id from pgbackman.backup_runs where node = $1 and deletion is distinct from 'DELETED' order by started_at desc limit 100`,
          [node],
        ),
      };

      // The commands as a user runs them, against a floor: node, pg, connect, one select, exit.
      ctx.log('reports: the commands, whole');
      const cmd = (label: string, ...args: string[]) => ({
        label,
        command: ['node', 'bin/pgbackman.js', '--catalogue', url, ...args],
        shown: `node bin/pgbackman.js --catalogue $CATALOGUE ${args.join(' ')}`,
      });
      const floor = {
        label: 'floor (pg connect + select 1)',
        command: [
          'node',
          '-e',
          `const pg=require('pg');const c=new pg.Client(${JSON.stringify(url)});c.connect().then(()=>c.query('select 1')).then(()=>c.end())`,
        ],
        shown: 'node -e "pg connect, select 1, end"',
      };
      const group = await measureGroup(
        [
          cmd('stats', 'stats', '-o', 'json'),
          cmd('get backups --status FAILED', 'get', 'backups', '--status', 'FAILED', '-o', 'json'),
          floor,
        ],
        { root: ctx.root, runs: ctx.runs ?? 7, warmup: ctx.warmup ?? 1, log: ctx.log },
      );
      const wall = (label: string) => medianWall(group, label);
      const f = wall(floor.label);
      const worstGet = Math.max(...gets.map(([, s]) => s.median));
      ctx.log(`reports: get backups ${gets.map(([l, s]) => `${l} ${ms(s.median)}`).join('; ')}`);
      ctx.log(
        `reports: page request ${ms(page.median)}, last page ${ms(pageLast.median)}, background read ${ms(read.median)}`,
      );
      return {
        about: [
          `Input${ctx.small ? ' (**--small**: a tenth of the contract)' : ''}: the retention benchmark's fixture (\`bench/retention-fixture.ts\`): ${count.toLocaleString('en-US')} BackupDefinitions applied by \`pgbackman apply\` to a migrated catalogue in a throwaway PostgreSQL (autovacuum off), ${shape?.runs} runs made by \`insertRunsSql\` (50 per definition over a year, one in 13 FAILED: ${shape?.failed}), then all moved onto one server (\`${SERVER}\`: the page's definitions), the runs older than 20 days deleted as retention would (pinned ones kept): ${shape?.kept} kept; a third of the kept good ones verified OK. The triggers filled \`run_tallies\` as the statements wrote; merged once as the agent's sweep does (${shape?.tallies} rows after). \`vacuum analyze\`. Table with indexes: ${shape?.size}; preparing took ${Math.round(prepMs / 1000)} s.`,
          `**Statements** are timed in this process over one \`pg\` connection, median of ${ROUNDS} after two untimed: **stats** is what \`pgbackman stats\` sends (fleetCounts, tallyKeptRuns, recentProblems) and its arithmetic; **get backups** is \`listBackups\` (\`get backups\`' statement) per filter, 100 rows at most; **status page** is what a request to the agent's \`/\` costs: the size charts of its ${PAGE_ROWS} rows (\`pageSizes\`) and \`renderStatusPage\` of the data last read (${(html.length / 1024).toFixed(0)} KiB of HTML); page 1 and the last page (${lastPage}). **The read behind it** (\`statusPageData\`: status of every definition with its last runs, stats of the server, 25 recent runs, disk, agents; median of 5) runs in the background, one at a time, when a request finds the data older than 10 s: the page shows the last data read, with its time.`,
          `EXPLAIN: stats' tallies from \`${explained.tallies}\`; the oldest/newest probes from \`${explained.probes}\`; failures in 24 h/7 d from \`${explained.problems}\`; \`get backups --status FAILED\` from \`${explained.failed}\`; \`--node\` from \`${explained.byNode}\`.`,
          `Stats: all ${ms(statsAll.median)} (max ${ms(statsAll.max)}), server ${ms(statsServer.median)}, node ${ms(statsNode.median)}. get backups: ${gets.map(([l, s]) => `${l} ${ms(s.median)}`).join('; ')}. Status page request: page 1 ${ms(page.median)} (max ${ms(page.max)}), page ${lastPage} ${ms(pageLast.median)}; the background read ${ms(read.median)} (max ${ms(read.max)}).`,
        ],
        reproduce: [
          'npm run bench -- reports',
          ...group.measurements.map((m) => m.spec.shown ?? m.spec.command.join(' ')),
        ],
        groups: [group],
        ratios: [
          { name: 'stats -o json (whole command) / floor', value: wall('stats') / f },
          {
            name: 'get backups --status FAILED (whole command) / floor',
            value: wall('get backups --status FAILED') / f,
          },
        ],
        targets: [
          target('stats statements, whole fleet, median', statsAll.median, STATEMENT_LIMIT_MS, 'ms'),
          target('get backups statement, slowest filter, median', worstGet, STATEMENT_LIMIT_MS, 'ms'),
          target(
            `status page of ${count.toLocaleString('en-US')} definitions, a request, median`,
            page.median,
            PAGE_LIMIT_MS,
            'ms',
          ),
        ],
      };
    } finally {
      release();
      await client.end().catch(() => undefined);
      ctx.log('reports: stopping the throwaway PostgreSQL');
      await c.stop();
      rmSync(scratch, { recursive: true, force: true });
    }
  },
};

export default benchmark;
