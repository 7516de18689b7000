import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { loadMigrations } from '../../src/catalogue/migrations.ts';
import { createTestCatalogue } from '../support/catalogues.ts';
import { BASE, definition } from '../support/fixtures.ts';
import { assertNoStackTrace, runCli, writeTree } from '../support/run-cli.ts';
import { createEmptyDatabase, withClient } from '../support/test-database.ts';

const dropLater: { drop(): Promise<void> }[] = [];
after(async () => {
  for (const d of dropLater) await d.drop();
});

async function history(url: string) {
  return withClient(
    url,
    async (c) =>
      (await c.query('select * from pgbackman.apply_history order by serial')).rows as Record<
        string,
        unknown
      >[],
  );
}

describe('apply_history', () => {
  test('each apply records its changes as action, address and changed field paths, not whole objects', async () => {
    const cat = await createTestCatalogue('postgres', 'history');
    dropLater.push(cat);
    const cli = async (...args: string[]) => {
      const r = await runCli(['--catalogue', cat.location, ...args]);
      assertNoStackTrace(r);
      assert.equal(r.code, 0, r.stderr);
      return r;
    };
    const dir = await writeTree({ ...BASE, 'a.yaml': definition('shop'), 'b.yaml': definition('old-name') });
    await cli('apply', dir, '--auto-approve');
    writeFileSync(join(dir, 'a.yaml'), definition('shop', 'database: shop\n  schedule: "0 3 * * *"'));
    writeFileSync(
      join(dir, 'b.yaml'),
      definition('new-name', 'database: shop2\n  schedule: "30 2 * * *"\n  previousName: old-name'),
    );
    await cli('apply', dir, '--auto-approve');
    rmSync(join(dir, 'a.yaml'));
    await cli('apply', dir, '--auto-approve');

    const rows = await history(cat.location);
    assert.deepEqual(Object.keys(rows[0] ?? {}).sort(), [
      'applied_at',
      'applied_by',
      'changes',
      'commit_author',
      'commit_subject',
      'lineage',
      'revision',
      'serial',
      'summary',
    ]);
    assert.deepEqual(
      rows.map((r) => [r.serial, r.summary, r.changes]),
      [
        [
          '1',
          { add: 4, change: 0, destroy: 0 },
          [
            { action: 'create', address: 'BackupServer/backup01', fields: [] },
            { action: 'create', address: 'PgSQLNode/pg01', fields: [] },
            { action: 'create', address: 'BackupDefinition/old-name', fields: [] },
            { action: 'create', address: 'BackupDefinition/shop', fields: [] },
          ],
        ],
        [
          '2',
          { add: 0, change: 2, destroy: 0 },
          [
            {
              action: 'move',
              address: 'BackupDefinition/new-name',
              previous_address: 'BackupDefinition/old-name',
              fields: ['spec.database'],
            },
            { action: 'update', address: 'BackupDefinition/shop', fields: ['spec.schedule'] },
          ],
        ],
        [
          '3',
          { add: 0, change: 0, destroy: 1 },
          [{ action: 'delete', address: 'BackupDefinition/shop', fields: [] }],
        ],
      ],
    );
  });

  test('catalogue migrate turns the whole plans of older history rows into the same compact changes', async () => {
    const db = await createEmptyDatabase('history_migration');
    dropLater.push(db);
    // A catalogue at schema version 3, with a history row as pgbackman wrote them then.
    await withClient(db.url, async (c) => {
      await c.query(
        'create schema pgbackman; create table pgbackman.migrations (id integer primary key, name text not null, applied_at timestamptz not null default now())',
      );
      for (const m of loadMigrations().filter((m) => m.id <= 3)) {
        await c.query(m.sql);
        await c.query('insert into pgbackman.migrations (id, name) values ($1, $2)', [m.id, m.name]);
      }
      const state = {
        spec: { database: 'shop' },
        labels: {},
        annotations: {},
        hash: 'h',
        source_file: 'a.yaml',
      };
      const change = (
        address: string,
        actions: string[],
        fields: string[],
        previous: string | null = null,
      ) => ({
        address,
        kind: 'BackupDefinition',
        name: address.split('/')[1],
        previous_address: previous,
        actions,
        reason: 'manifest changed',
        before: actions[0] === 'create' ? null : state,
        after: actions[0] === 'delete' ? null : state,
        fields: fields.map((path) => ({ path, before: 'x', after: 'y' })),
      });
      const plan = {
        format_version: '1.0',
        catalogue: { lineage: null, serial: 0 },
        revision: null,
        applyable: true,
        summary: { add: 1, change: 3, destroy: 1 },
        changes: [
          change('BackupDefinition/a', ['create'], []),
          change('BackupDefinition/b', ['move'], [], 'BackupDefinition/old-b'),
          change('BackupDefinition/c', ['move', 'update'], ['spec.database'], 'BackupDefinition/old-c'),
          change('BackupDefinition/d', ['update'], ['spec.schedule', 'labels.env']),
          change('BackupDefinition/e', ['delete'], []),
        ],
        unmanaged: [],
        errors: [],
      };
      await c.query(
        `insert into pgbackman.apply_history (serial, lineage, applied_by, revision, plan, summary)
         select 1, lineage, 'someone@somewhere', null, $1, $2 from pgbackman.catalogue`,
        [JSON.stringify(plan), JSON.stringify(plan.summary)],
      );
    });
    const migrated = await runCli(['--catalogue', db.url, 'catalogue', 'migrate']);
    assertNoStackTrace(migrated);
    assert.equal(migrated.code, 0, migrated.stderr);
    const [row] = await history(db.url);
    assert.equal(row?.plan, undefined);
    assert.deepEqual(row?.summary, { add: 1, change: 3, destroy: 1 });
    assert.deepEqual(row?.changes, [
      { action: 'create', address: 'BackupDefinition/a', fields: [] },
      {
        action: 'move',
        address: 'BackupDefinition/b',
        previous_address: 'BackupDefinition/old-b',
        fields: [],
      },
      {
        action: 'move',
        address: 'BackupDefinition/c',
        previous_address: 'BackupDefinition/old-c',
        fields: ['spec.database'],
      },
      { action: 'update', address: 'BackupDefinition/d', fields: ['spec.schedule', 'labels.env'] },
      { action: 'delete', address: 'BackupDefinition/e', fields: [] },
    ]);
  });
});
