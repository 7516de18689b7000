// The whole run's deadline: past it, say what was still running (processes, and what the test cluster's
// sessions were waiting on), then stop every process of the run, so CI fails with a cause instead of a timeout.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

/** `PGBACKMAN_TEST_DEADLINE_MIN`, 25 by default: the suite takes about 6 minutes on 2 CPUs. */
export function deadlineMinutes(): number {
  const asked = Number(process.env.PGBACKMAN_TEST_DEADLINE_MIN);
  return Number.isFinite(asked) && asked > 0 ? asked : 25;
}

export async function overran(groupLeader: number, clusterUrl: string): Promise<void> {
  const say = (text: string) => process.stderr.write(`${text}\n`);
  say(`\nthe test run passed its deadline of ${deadlineMinutes()} min: what was still running`);
  const ps = await run('ps', ['-eo', 'pid,ppid,pgid,etimes,stat,args', '--forest'], {
    timeout: 10_000,
  }).catch((err: Error) => ({ stdout: `ps failed: ${err.message}` }));
  say(ps.stdout);
  const client = new pg.Client({ connectionString: clusterUrl, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    const { rows } = await client.query(
      `select pid, datname, application_name, state, wait_event_type, wait_event,
              pg_blocking_pids(pid) as blocked_by, now() - query_start as for, left(query, 200) as query
         from pg_stat_activity where backend_type = 'client backend' and pid <> pg_backend_pid()`,
    );
    for (const r of rows) say(JSON.stringify(r));
  } catch (err) {
    say(`the test cluster did not answer: ${(err as Error).message}`);
  } finally {
    await client.end().catch(() => undefined);
  }
  try {
    process.kill(-groupLeader, 'SIGKILL');
  } catch {
    // the run ended meanwhile
  }
  say(`ℹ fail 1 · the run was stopped after ${deadlineMinutes()} min`);
}
