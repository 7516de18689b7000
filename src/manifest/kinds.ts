import type { Manifest } from './generated/manifest-types.ts';

/** The manifest kinds, in the order objects are created (parents first). */
export const KINDS = [
  'BackupServer',
  'PgSQLNode',
  'BackupPolicy',
  'BackupDefinition',
  'SnapshotDefinition',
  'RestoreDefinition',
] as const;
export type Kind = (typeof KINDS)[number];

/** The spec of one kind, as the generated types (from schemas/) have it. */
export type SpecOf<K extends Kind> = Extract<Manifest, { kind: K }>['spec'];

export const API_VERSION = 'pgbackman.io/v1';

/** The schema file of each kind under `schemas/`. */
export const SCHEMA_FILES: Readonly<Record<Kind, string>> = {
  BackupServer: 'backup-server.schema.json',
  PgSQLNode: 'pgsql-node.schema.json',
  BackupPolicy: 'backup-policy.schema.json',
  BackupDefinition: 'backup-definition.schema.json',
  SnapshotDefinition: 'snapshot-definition.schema.json',
  RestoreDefinition: 'restore-definition.schema.json',
};

export function isKind(value: unknown): value is Kind {
  return typeof value === 'string' && (KINDS as readonly string[]).includes(value);
}

/** Accepts `BackupDefinition`, `backupdefinition`, `backup-definition` and the file stem alike. */
export function parseKind(text: string): Kind | undefined {
  const wanted = text.toLowerCase().replace(/[-_]/g, '');
  return KINDS.find((k) => k.toLowerCase() === wanted);
}
