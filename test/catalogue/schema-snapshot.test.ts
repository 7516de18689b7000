import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../support/run-cli.ts';
import { createTestDatabase } from '../support/test-database.ts';
import { findPgBinDir } from '../support/throwaway-postgres.ts';

const SNAPSHOT = join(REPO_ROOT, 'test', 'catalogue-schema.sql');

/** pg_dump's output without what changes from run to run (comments, session settings, restrict keys). */
function normalize(sql: string): string {
  return sql
    .split('\n')
    .filter(
      (l) => l.trim() !== '' && !/^(--|\\restrict|\\unrestrict|SET |SELECT pg_catalog\.set_config)/.test(l),
    )
    .join('\n');
}

test('the migrations produce exactly the committed schema (test/catalogue-schema.sql; UPDATE_SNAPSHOT=1 rewrites it)', async () => {
  const db = await createTestDatabase('snapshot');
  try {
    const { stdout } = await promisify(execFile)(join(findPgBinDir(), 'pg_dump'), [
      '--schema-only',
      '--schema=pgbackman',
      '--no-owner',
      '--dbname',
      db.url,
    ]);
    const dump = `${normalize(stdout)}\n`;
    if (process.env.UPDATE_SNAPSHOT === '1') writeFileSync(SNAPSHOT, dump);
    assert.equal(
      dump,
      readFileSync(SNAPSHOT, 'utf8'),
      'the catalogue schema drifted from test/catalogue-schema.sql: if the change is intended, run UPDATE_SNAPSHOT=1 npm run test:only -- test/catalogue/schema-snapshot.test.ts and commit the file',
    );
  } finally {
    await db.drop();
  }
});
