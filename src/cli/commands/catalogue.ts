import { catalogueStatus, migrate } from '../../catalogue/migrate.ts';
import { withCatalogue } from '../../catalogue/open-catalogue.ts';
import { ExitCode } from '../exit-codes.ts';
import type { Output } from '../output.ts';

/** `pgbackman catalogue migrate`: brings the catalogue's schema to this pgbackman's version. */
export async function runMigrate(location: string, output: Output): Promise<ExitCode> {
  return withCatalogue(location, 'catalogue migrate', async (db) => {
    const applied = await migrate(db);
    const status = await catalogueStatus(db);
    if (applied.length === 0)
      output.out.write(`The catalogue at ${db.location} is up to date (schema version ${status.version}).\n`);
    else {
      for (const m of applied) output.err.write(`applied ${m}\n`);
      output.out.write(`Migrated the catalogue at ${db.location} to schema version ${status.version}.\n`);
    }
    return ExitCode.Ok;
  });
}

/** `pgbackman catalogue status`: schema version, pending migrations, lineage, serial, last apply. */
export async function runStatus(
  location: string,
  format: 'text' | 'json',
  output: Output,
): Promise<ExitCode> {
  return withCatalogue(location, 'catalogue status', async (db) => {
    const s = await catalogueStatus(db);
    if (format === 'json') {
      output.out.write(`${JSON.stringify(s, null, 2)}\n`);
      return ExitCode.Ok;
    }
    const rows: [string, string][] = [
      ['catalogue', `${s.location} (${db.kind})`],
      [
        'schema version',
        `${s.version} of ${s.latest}${s.pending.length > 0 ? ' (run `pgbackman catalogue migrate`)' : ''}`,
      ],
      ['pending migrations', s.pending.length === 0 ? 'none' : s.pending.join(', ')],
      ['lineage', s.lineage ?? '-'],
      ['serial', s.serial === null ? '-' : String(s.serial)],
      ['last apply', s.lastApplyAt ?? 'never'],
    ];
    for (const [k, v] of rows) output.out.write(`${`${k}:`.padEnd(20)}${v}\n`);
    return ExitCode.Ok;
  });
}
