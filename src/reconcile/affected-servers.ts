import type { Queryable } from '../catalogue/catalogue-db.ts';
import type { Plan } from '../plan/change.ts';

/** The backup servers whose work a plan changes: their agents are told to reschedule at once. */
export async function affectedServers(tx: Queryable, plan: Plan): Promise<string[]> {
  const servers = new Set<string>();
  const nodes = new Set<string>();
  for (const c of plan.changes) {
    const sides =
      c.action === 'create' ? [c.after] : c.action === 'delete' ? [c.before] : [c.before, c.after];
    for (const side of sides) {
      if (c.kind === 'BackupServer') servers.add(side.name);
      else if (c.kind === 'PgSQLNode') nodes.add(side.name);
      const server = side.spec.server;
      if (typeof server === 'string') servers.add(server);
    }
  }
  if (nodes.size > 0) {
    // A node's connection or window changed: every server with work on that node must know.
    const rows = await tx.query<{ server: string }>(
      `select server from pgbackman.backup_definitions where node = any($1::text[])
       union select server from pgbackman.snapshot_definitions where node = any($1::text[])
       union select server from pgbackman.restore_definitions where target_node = any($1::text[]) and server is not null`,
      [[...nodes]],
    );
    for (const r of rows) servers.add(r.server);
  }
  return [...servers].sort();
}
