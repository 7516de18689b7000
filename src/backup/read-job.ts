import type { Queryable } from '../catalogue/catalogue-db.ts';
import { listObjects } from '../catalogue/list-objects.ts';
import { PgbackmanError } from '../errors.ts';
import type { DumpJob } from './run-dump.ts';

/** The definition (or snapshot) to run, with its node and server, from the catalogue: what `run` and the agent execute. */
export async function readJob(q: Queryable, kind: DumpJob['kind'], name: string): Promise<DumpJob> {
  const found = await (kind === 'BackupDefinition'
    ? listObjects(q, 'BackupDefinition', { name })
    : listObjects(q, 'SnapshotDefinition', { name }));
  const [definition] = found;
  if (definition === undefined) {
    const hint = kind === 'BackupDefinition' ? ' (for a snapshot, add --snapshot)' : '';
    const list = kind === 'BackupDefinition' ? 'definitions' : 'snapshots';
    throw new PgbackmanError(
      'NOT_FOUND',
      `${kind}/${name} is not in the catalogue${hint}; see \`pgbackman get ${list}\``,
    );
  }
  const { spec } = definition;
  const [[node], [server]] = await Promise.all([
    listObjects(q, 'PgSQLNode', { name: spec.node }),
    listObjects(q, 'BackupServer', { name: spec.server }),
  ]);
  if (node === undefined || server === undefined)
    throw new PgbackmanError(
      'NOT_FOUND',
      `${kind}/${name} refers to a node or server the catalogue does not have`,
    );
  const parts = {
    name,
    node: { name: node.name, spec: node.spec },
    server: { name: server.name, spec: server.spec },
    revision: definition.source.revision,
  };
  return definition.kind === 'BackupDefinition'
    ? { kind: 'BackupDefinition', spec: definition.spec, ...parts }
    : { kind: 'SnapshotDefinition', spec: definition.spec, ...parts };
}
