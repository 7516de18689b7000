import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { withCatalogue } from '../../src/catalogue/open-catalogue.ts';
import type { PlannedDump } from '../../src/retention/retention-plan.ts';
import { sweepRetention } from '../../src/retention/sweep.ts';
import { createTestCatalogue, type TestCatalogue } from '../support/catalogues.ts';
import { withClient } from '../support/test-database.ts';

/** What happens between a plan and its sweep: each deletion is checked again against the catalogue. */
describe('the sweep carries out a plan against the catalogue as it is now', () => {
  let catalogue: TestCatalogue;
  const root = mkdtempSync(join(tmpdir(), 'pgbackman-sweep-'));
  before(async () => {
    catalogue = await createTestCatalogue('postgres', 'sweep_steps');
  });
  after(async () => {
    await catalogue?.drop();
    rmSync(root, { recursive: true, force: true });
  });
  const sql = (text: string, params: unknown[] = []) =>
    withClient(catalogue.location, async (c) => (await c.query(text, params)).rows);

  /** A successful dump of `server` with its directory on disk; returns it as a plan would delete it. */
  async function dump(name: string, server = 'local'): Promise<{ dump: PlannedDump; dir: string }> {
    const [row] = (await sql(
      `insert into pgbackman.backup_runs (server, node, database, code, definition, status, started_at, finished_at)
       values ($1, 'n1', 'shop', 'FULL', $2, 'SUCCEEDED', now() - interval '30 days', now() - interval '30 days')
       returning id::text`,
      [server, name],
    )) as { id: string }[];
    const id = (row as { id: string }).id;
    const dir = join(root, 'n1', 'shop', `20261101T000000Z-FULL-${name}-${id.slice(0, 8)}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'database.dump'), 'x');
    await sql('update pgbackman.backup_runs set dump_path = $2 where id = $1::uuid', [
      id,
      join(dir, 'database.dump'),
    ]);
    const planned: PlannedDump = {
      id,
      server,
      definition: name,
      snapshot: null,
      finishedAt: '2026-11-01T00:00:00.000Z',
      status: 'SUCCEEDED',
      bytes: 1,
      pinned: false,
      action: 'delete',
      reasons: ['expired: older than 7d'],
    };
    return { dump: planned, dir };
  }
  const deletion = async (id: string) =>
    (
      (await sql('select deletion from pgbackman.backup_runs where id = $1::uuid', [id])) as {
        deletion: string | null;
      }[]
    )[0]?.deletion;

  test('a plain deletion, one left DELETING by a killed sweep, three the catalogue or the host now refuse, one the plan keeps', async () => {
    const plain = await dump('plain');
    const resumed = await dump('resumed');
    await sql(`update pgbackman.backup_runs set deletion = 'DELETING' where id = $1::uuid`, [
      resumed.dump.id,
    ]);
    const pinned = await dump('pinned');
    await sql(`update pgbackman.backup_runs set pinned_at = now(), pinned_by = 'ops' where id = $1::uuid`, [
      pinned.dump.id,
    ]);
    const done = await dump('done');
    await sql(`update pgbackman.backup_runs set deletion = 'DELETED' where id = $1::uuid`, [done.dump.id]);
    const other = await dump('other', 'elsewhere');
    const kept = await dump('kept');
    const outcome = await withCatalogue(catalogue.location, 'test', (db) =>
      sweepRetention(
        db,
        [plain.dump, resumed.dump, pinned.dump, done.dump, other.dump, { ...kept.dump, action: 'keep' }],
        new Map([['local', root]]),
      ),
    );
    assert.deepEqual(
      outcome.deleted.map((d) => d.definition),
      ['plain', 'resumed'],
    );
    assert.deepEqual(outcome.skipped.map((s) => `${s.dump.definition}: ${s.why}`).sort(), [
      'done: deleted by another sweep since the plan was made',
      'other: taken by BackupServer/elsewhere: only its own host sweeps it',
      'pinned: pinned, running or being deleted since the plan was made',
    ]);
    for (const d of [plain, resumed]) {
      assert.equal(existsSync(d.dir), false);
      assert.equal(await deletion(d.dump.id), 'DELETED');
    }
    for (const d of [pinned, other, kept]) {
      assert.ok(existsSync(join(d.dir, 'database.dump')), `${d.dump.definition}'s files stay`);
      assert.equal(await deletion(d.dump.id), null);
    }
  });
});
