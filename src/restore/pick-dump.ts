import { type BackupRun, isGoodRun, listBackups } from '../catalogue/backup-runs.ts';
import type { Queryable } from '../catalogue/catalogue-db.ts';
import type { RestoreItem } from './restore-due.ts';

/** The dump a RestoreDefinition restores; 'wait' while the snapshot it names has not been taken. */
export async function pickDump(q: Queryable, item: RestoreItem): Promise<BackupRun | undefined | 'wait'> {
  const { source } = item.spec;
  if (source.backupId !== undefined) {
    const [one] = await listBackups(q, { id: source.backupId.toLowerCase(), limit: 1 });
    return one !== undefined && isGoodRun(one.status) && one.deletion === null ? one : undefined;
  }
  if (source.snapshot !== undefined) {
    const [last] = await listBackups(q, { snapshot: source.snapshot, limit: 1 });
    if (last === undefined || last.status === 'RUNNING') return 'wait';
    return isGoodRun(last.status) && last.deletion === null ? last : undefined;
  }
  const [newest] = await listBackups(q, {
    definition: source.definition as string,
    good: true,
    ...(source.before === undefined ? {} : { before: new Date(source.before) }),
    limit: 1,
  });
  return newest;
}

export function describeSource(item: RestoreItem): string {
  const s = item.spec.source;
  if (s.backupId !== undefined) return `backup ${s.backupId}`;
  if (s.snapshot !== undefined) return `SnapshotDefinition/${s.snapshot}`;
  return `BackupDefinition/${s.definition}${s.before === undefined ? '' : ` taken before ${s.before}`}`;
}
