import type { Kind } from '../manifest/kinds.ts';

/** Each kind's table and the columns derived from its spec (the references the database enforces). */
export const TABLES: Readonly<Record<Kind, { readonly table: string; readonly refs: readonly RefColumn[] }>> =
  {
    BackupServer: { table: 'pgbackman.backup_servers', refs: [] },
    PgSQLNode: { table: 'pgbackman.pgsql_nodes', refs: [] },
    BackupPolicy: { table: 'pgbackman.backup_policies', refs: [{ column: 'server', from: ['server'] }] },
    BackupDefinition: {
      table: 'pgbackman.backup_definitions',
      refs: [
        { column: 'server', from: ['server'] },
        { column: 'node', from: ['node'] },
        { column: 'database', from: ['database'] },
      ],
    },
    SnapshotDefinition: {
      table: 'pgbackman.snapshot_definitions',
      refs: [
        { column: 'server', from: ['server'] },
        { column: 'node', from: ['node'] },
        { column: 'database', from: ['database'] },
      ],
    },
    RestoreDefinition: {
      table: 'pgbackman.restore_definitions',
      refs: [
        { column: 'server', from: ['server'] },
        { column: 'target_node', from: ['target', 'node'] },
      ],
    },
  };

export interface RefColumn {
  readonly column: string;
  /** The path in the spec the column's value comes from. */
  readonly from: readonly string[];
}

export function refValue(spec: Readonly<Record<string, unknown>>, path: readonly string[]): string | null {
  let v: unknown = spec;
  for (const key of path)
    v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined;
  return typeof v === 'string' ? v : null;
}
