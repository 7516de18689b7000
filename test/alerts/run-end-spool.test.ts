import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { AlertNotifier, type RunEnd } from '../../src/agent/alert-notifier.ts';
import type { CatalogueDb } from '../../src/catalogue/catalogue-db.ts';
import { openCatalogue } from '../../src/catalogue/open-catalogue.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { createTestCatalogue, type TestCatalogue } from '../support/catalogues.ts';

const end = (definition: string, runId: string | null): RunEnd => ({
  kind: 'BackupDefinition',
  definition,
  node: 'n1',
  server: 'local',
  database: 'shop',
  notify: [{ email: ['dba@example.org'] }, null, null],
  runId,
  status: 'FAILED',
  error: 'pg_dump exited 1',
  errorCode: 'DUMP_FAILED',
  durationMs: 10,
  at: new Date().toISOString(),
});

describe('run ends waiting on disk for the catalogue', () => {
  let catalogue: TestCatalogue;
  let db: CatalogueDb;
  let dir: string;

  before(async () => {
    catalogue = await createTestCatalogue('postgres', 'alert-spool');
    db = await openCatalogue(catalogue.location, 'test');
    dir = await mkdtemp(join(tmpdir(), 'pgbackman-alert-spool-'));
  });
  after(async () => {
    await db?.close();
    await catalogue?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  test('one the catalogue refuses as data is set aside as .bad, and the ones after it are still queued', async () => {
    const lines: string[] = [];
    const log = createLogger({
      format: 'json',
      stream: new Writable({
        write(chunk, _encoding, done) {
          lines.push(String(chunk));
          done();
        },
      }),
      level: 'info',
    });
    // Written by an older or damaged agent: a run ID that is no UUID.
    await writeFile(
      join(dir, '1000000000000-aaaaaaaaaaaa.json'),
      JSON.stringify(end('broken', 'not-a-uuid')),
    );
    const notifier = new AlertNotifier({
      server: 'local',
      use: (fn) => fn(db),
      log,
      statusUrl: null,
      spoolDir: dir,
      queued: () => undefined,
    });
    notifier.runEnded(end('fine', '7d1c0e4e-0000-4000-8000-000000000001'));
    await notifier.settled();
    const rows = await db.query<{ definition: string }>('select definition from pgbackman.alert_messages');
    assert.deepEqual(
      rows.map((r) => r.definition),
      ['fine'],
    );
    assert.deepEqual(await readdir(dir), ['1000000000000-aaaaaaaaaaaa.json.bad']);
    assert.ok(lines.some((l) => /"event":"alert_refused"/.test(l) && /broken/.test(l)));
  });
});
