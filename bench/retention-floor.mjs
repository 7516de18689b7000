// The floor under `pgbackman retention plan`: ONE SELECT of every live run with `pg`, rows decoded and
// discarded; no rules, no output. The SQL is imported from the build (dist/catalogue/run-retention.js), so
// the floor and pgbackman cannot drift apart: by default the columns the plan reads (PLAN_RUNS_SQL), with
// --full every column of retentionRuns (RETENTION_RUNS_SQL: the stored retention as jsonb, and the path).
// Plain JavaScript, so it runs under bare `node`.
//
//   node bench/retention-floor.mjs postgres://... [--full]
//
// Prints "R rows" on stdout; exits 1 when the query fails.
import pg from 'pg';
import { PLAN_RUNS_SQL, RETENTION_RUNS_SQL } from '../dist/catalogue/run-retention.js';

const [url, mode] = process.argv.slice(2);
if (url === undefined || (mode !== undefined && mode !== '--full')) {
  process.stderr.write('usage: node bench/retention-floor.mjs postgres://... [--full]\n');
  process.exit(2);
}

try {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  let count = 0;
  try {
    // No server or name filter, as `retention plan` without arguments.
    const { rows } =
      mode === '--full'
        ? await client.query(RETENTION_RUNS_SQL, [null, null])
        : await client.query(PLAN_RUNS_SQL, [null]);
    count = rows.length;
  } finally {
    await client.end();
  }
  process.stdout.write(`${count} rows\n`);
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
