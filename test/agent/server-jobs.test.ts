import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { readServerWork, WorkCache } from '../../src/agent/server-jobs.ts';
import type { CatalogueDb, Queryable } from '../../src/catalogue/catalogue-db.ts';
import { openCatalogue } from '../../src/catalogue/open-catalogue.ts';
import { createTestCatalogue, type TestCatalogue } from '../support/catalogues.ts';
import { localSetup } from '../support/fixtures.ts';
import { runCli, writeTree } from '../support/run-cli.ts';

/** Counts the definitions' full rows (their specs) and version rows each read fetches. */
function counting(db: Queryable): { q: Queryable; specRows: () => number; versionRows: () => number } {
  let rows = 0;
  let versions = 0;
  return {
    q: {
      async query<R extends object>(sql: string, params?: readonly unknown[]) {
        const result = await db.query<R>(sql, params);
        if (/select name, spec, /.test(sql) && /backup_definitions/.test(sql)) rows += result.length;
        if (/as version/.test(sql) && /backup_definitions/.test(sql)) versions += result.length;
        return result;
      },
      exec: (sql) => db.exec(sql),
    },
    specRows: () => rows,
    versionRows: () => versions,
  };
}

describe("the agent's view of its server's work", () => {
  let catalogue: TestCatalogue;
  let db: CatalogueDb;
  const apply = async (definitions: Record<string, string>) => {
    const dir = await writeTree({
      'm.yaml': localSetup({ root: '/tmp/pgbackman-unused', host: '127.0.0.1', port: 5432, definitions }),
    });
    const r = await runCli(['--catalogue', catalogue.location, 'apply', dir, '--auto-approve']);
    assert.equal(r.code, 0, r.stderr);
  };
  const many = (changed?: string) =>
    Object.fromEntries(
      Array.from({ length: 40 }, (_, i) => [
        `d${i}`,
        `database: db${i}, schedule: "${i === 7 && changed !== undefined ? changed : `${i} 3 * * *`}"`,
      ]),
    );

  before(async () => {
    catalogue = await createTestCatalogue('postgres', 'server-jobs');
    await apply(many());
    db = await openCatalogue(catalogue.location, 'test');
  });
  after(async () => {
    await db?.close();
    await catalogue?.drop();
  });

  test('a reschedule reads again only the definitions that changed, and keeps the entries of the others', async () => {
    const cache = new WorkCache();
    const first = counting(db);
    const before = await readServerWork(first.q, 'local', cache);
    assert.equal(before.entries.length, 40);
    assert.equal(first.specRows(), 40);
    await apply(many('0 4 * * *'));
    const second = counting(db);
    const after = await readServerWork(second.q, 'local', cache);
    assert.equal(second.specRows(), 1, 'only the changed definition is read whole');
    assert.equal(second.versionRows(), 1, 'and only its version: the others were not written since');
    const changed = after.entries.filter((e) => !before.entries.includes(e)).map((e) => e.key);
    assert.deepEqual(changed, ['BackupDefinition/d7']);
    assert.deepEqual(after.entries.find((e) => e.key === 'BackupDefinition/d7')?.timing, {
      kind: 'cron',
      pattern: '0 4 * * *',
      timezone: 'UTC',
    });
    await apply(Object.fromEntries(Object.entries(many('0 4 * * *')).filter(([name]) => name !== 'd3')));
    const third = await readServerWork(db, 'local', cache);
    assert.equal(third.entries.length, 39);
    assert.ok(!third.entries.some((e) => e.key === 'BackupDefinition/d3'), 'a deleted definition is gone');
  });

  test('a catalogue whose serial went back (restored from a backup) is read whole, not trusted to be the same', async () => {
    const cache = new WorkCache();
    await readServerWork(db, 'local', cache);
    // As if the agent had last read a later serial of another catalogue under the same name.
    cache.serials.set('BackupDefinition', 1_000_000);
    const again = counting(db);
    const work = await readServerWork(again.q, 'local', cache);
    assert.equal(again.versionRows(), work.entries.length, 'every version is read again');
  });

  test('a rename, or one definition gone and another added in one apply, is found whole: the count tells', async () => {
    const cache = new WorkCache();
    const base = Object.fromEntries(Object.entries(many()).filter(([name]) => name !== 'd3'));
    await apply(base);
    await readServerWork(db, 'local', cache);
    // d5 gone, d3 back: as many definitions as before.
    const swapped = {
      ...Object.fromEntries(Object.entries(base).filter(([name]) => name !== 'd5')),
      d3: base.d4 as string,
    };
    await apply(swapped);
    const after = counting(db);
    const work = await readServerWork(after.q, 'local', cache);
    const keys = work.entries.map((e) => e.key);
    assert.ok(keys.includes('BackupDefinition/d3') && !keys.includes('BackupDefinition/d5'), keys.join(' '));
    assert.equal(work.entries.length, 39);
    assert.equal(
      after.versionRows(),
      1 + 39,
      'the one written since, then every version: the count did not add up',
    );
    // Renamed (spec.previousName): the old name is dropped, the new one scheduled.
    const { d6, ...rest }: Record<string, string> = swapped;
    await apply({ ...rest, d6b: `${d6}, previousName: d6` });
    const renamed = (await readServerWork(db, 'local', cache)).entries.map((e) => e.key);
    assert.ok(
      renamed.includes('BackupDefinition/d6b') && !renamed.includes('BackupDefinition/d6'),
      renamed.join(' '),
    );
    assert.equal(renamed.length, 39);
  });
});
