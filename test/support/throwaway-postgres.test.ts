import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestDatabase, type TestDatabase, testServerUrl, withClient } from './test-database.ts';
import { startThrowawayPostgres } from './throwaway-postgres.ts';

describe('the test harness', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase('harness');
  });
  after(async () => {
    await db?.drop();
  });

  test('gives each test file its own database on a real PostgreSQL server', async () => {
    const row = await withClient(
      db.url,
      async (c) =>
        (
          await c.query('select current_database() as name, current_setting($1)::int as version', [
            'server_version_num',
          ])
        ).rows[0],
    );
    assert.equal(row.name, db.name);
    assert.ok(row.version >= 130000, `server version ${row.version} is older than 13`);
    assert.notEqual(db.url, testServerUrl());
  });

  test('starts and removes an extra cluster when a test needs a second node', async () => {
    const node = await startThrowawayPostgres('node-b');
    try {
      const one = await withClient(node.url, async (c) => (await c.query('select 1 as one')).rows[0].one);
      assert.equal(one, 1);
    } finally {
      await node.stop();
    }
    await assert.rejects(withClient(node.url, (c) => c.query('select 1')));
  });
});
