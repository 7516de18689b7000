// What the benchmarks that start a throwaway PostgreSQL share.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../test/support/throwaway-postgres.ts';
import { type Helper, processTreeCpuMs } from './harness.ts';

/** A server setting, as `show` reports it. */
export async function show(c: pg.Client, setting: string): Promise<string> {
  const { rows } = await c.query<Record<string, string>>(`show ${setting}`);
  const value = rows[0]?.[setting];
  if (value === undefined) throw new Error(`show ${setting}: no value`);
  return value;
}

/** Stops the cluster when the runner is interrupted, then exits as interrupted. */
export function stopOnSignal(stop: () => Promise<void>): () => void {
  const handler = (signal: NodeJS.Signals) => {
    process.stderr.write(`\n${signal}: stopping the throwaway PostgreSQL\n`);
    void stop().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

/** A throwaway cluster with an admin connection, autovacuum off, and its server's CPU time as a helper. */
export class BenchServer {
  readonly cluster: ThrowawayPostgres;
  readonly version: string;
  protected readonly admin: pg.Client;
  private readonly postmasterPid: number;

  protected constructor(server: BenchServer) {
    this.cluster = server.cluster;
    this.admin = server.admin;
    this.version = server.version;
    this.postmasterPid = server.postmasterPid;
  }

  /**
   * Starts the cluster (`settings`: more `name=value` server settings); subclasses wrap the result with
   * `new Sub(await BenchServer.open(label))`.
   */
  static async open(label: string, settings: readonly string[] = []): Promise<BenchServer> {
    const cluster = await startThrowawayPostgres(label, { settings });
    const admin = new pg.Client({ connectionString: cluster.url, application_name: 'pgbackman bench' });
    try {
      admin.on('error', () => undefined);
      await admin.connect();
      const version = await show(admin, 'server_version');
      const pidFile = join(await show(admin, 'data_directory'), 'postmaster.pid');
      const postmasterPid = Number(readFileSync(pidFile, 'utf8').split('\n', 1)[0]);
      // Background vacuum would land in later runs' server CPU time: the benchmarks vacuum by hand.
      await admin.query('alter system set autovacuum = off');
      await admin.query('select pg_reload_conf()');
      return Object.assign(Object.create(BenchServer.prototype) as BenchServer, {
        cluster,
        admin,
        version,
        postmasterPid,
      });
    } catch (err) {
      await admin.end().catch(() => undefined);
      await cluster.stop();
      throw err;
    }
  }

  url(database: string): string {
    const u = new URL(this.cluster.url);
    u.pathname = `/${database}`;
    return u.toString();
  }

  async sql(text: string): Promise<void> {
    await this.admin.query(text);
  }

  /** Runs `text` in `database` on a connection of its own. */
  async sqlIn(database: string, text: string): Promise<void> {
    await this.rowsIn(database, text);
  }

  /** The rows of `text` (with `$1` parameters) in `database`, on a connection of its own. */
  async rowsIn<R extends object>(database: string, text: string, params: unknown[] = []): Promise<R[]> {
    const c = new pg.Client({ connectionString: this.url(database) });
    await c.connect();
    try {
      return (await c.query<R>(text, params)).rows;
    } finally {
      await c.end();
    }
  }

  /** The PostgreSQL server's CPU time so far: the postmaster and all its processes, living or exited. */
  helper(): Helper {
    return { name: 'PostgreSQL', cpuMs: () => processTreeCpuMs(this.postmasterPid) };
  }

  async stop(): Promise<void> {
    await this.admin.end().catch(() => undefined);
    await this.cluster.stop();
  }
}
