// What the benchmarks that start a throwaway PostgreSQL share.
import type pg from 'pg';

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
