import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { loadSchedule, saveSchedule } from '../../src/agent/schedule-cache.ts';
import type { DumpJob } from '../../src/backup/run-dump.ts';
import type { ScheduleEntry } from '../../src/schedule/scheduler.ts';

const dir = mkdtempSync(join(tmpdir(), 'pgbackman-schedule-cache-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const server = { name: 'bk1', spec: { hostname: 'bk1', rootDirectory: '/srv/backups' } };
const node = (n: number) => ({
  name: `pg${n}`,
  spec: { host: `db${n}.example.net`, port: 5432, user: 'backup' },
});
const nodes = [node(1), node(2)];

function entries(count: number): ScheduleEntry<DumpJob>[] {
  return Array.from({ length: count }, (_, i) => {
    const n = nodes[i % 2] as ReturnType<typeof node>;
    const name = `def-${i}`;
    const spec = {
      server: 'bk1',
      node: n.name,
      database: `db${i}`,
      code: 'FULL',
      schedule: `${i % 60} 3 * * *`,
    };
    return {
      key: `BackupDefinition/${name}`,
      hash: `h${i}`,
      timing: { kind: 'cron', pattern: spec.schedule, timezone: 'Europe/Oslo' },
      payload: {
        kind: 'BackupDefinition',
        name,
        spec,
        node: n,
        server,
        revision: 'main@sha1:abc',
      } as DumpJob,
    };
  });
}

const where = { catalogue: 'postgres://cat.example.net/pgbackman', server: 'bk1' };

describe('the cached schedule (kept for a restart while the catalogue is down)', () => {
  test('what is saved is what is loaded, with each node and the server written once, not once per entry', async () => {
    const file = join(dir, 'a', 'schedule.json');
    const saved = entries(1200);
    await saveSchedule(file, { ...where, entries: saved });
    const loaded = await loadSchedule(file, where);
    assert.deepEqual(loaded.entries, saved);
    const text = readFileSync(file, 'utf8');
    assert.equal(text.split('db1.example.net').length - 1, 1, 'node pg1 is written once');
    assert.equal(text.split('/srv/backups').length - 1, 1, 'the server is written once');
    assert.equal(statSync(file).mode & 0o777, 0o600);
  });

  test('a snapshot keeps its time as a date', async () => {
    const file = join(dir, 'b.json');
    const at = new Date('2026-12-24T18:00:00Z');
    const snap: ScheduleEntry<DumpJob> = {
      key: 'SnapshotDefinition/xmas',
      hash: 'x',
      timing: { kind: 'once', at },
      payload: {
        kind: 'SnapshotDefinition',
        name: 'xmas',
        spec: { server: 'bk1', node: 'pg1', database: 'shop', at: at.toISOString() },
        node: node(1),
        server,
        revision: null,
      } as DumpJob,
    };
    await saveSchedule(file, { ...where, entries: [snap] });
    const [loaded] = (await loadSchedule(file, where)).entries;
    assert.deepEqual(loaded?.timing, { kind: 'once', at });
  });

  test("the previous release's file (one JSON document) is still run after an upgrade", async () => {
    const file = join(dir, 'v1.json');
    const saved = entries(3);
    const v1 = { version: 1, ...where, cachedAt: '2026-12-01T00:00:00.000Z', entries: saved };
    writeFileSync(file, JSON.stringify(v1), { mode: 0o600 });
    const loaded = await loadSchedule(file, where);
    assert.equal(loaded.cachedAt, '2026-12-01T00:00:00.000Z');
    assert.deepEqual(loaded.entries, saved);
  });

  test("another catalogue's or server's schedule, an older format, or no file at all is never used", async () => {
    const file = join(dir, 'c.json');
    await saveSchedule(file, { ...where, entries: entries(3) });
    await assert.rejects(loadSchedule(file, { ...where, server: 'bk2' }), /another catalogue or server/);
    await assert.rejects(
      loadSchedule(file, { ...where, catalogue: 'postgres://other/pgbackman' }),
      /another/,
    );
    const unknown = join(dir, 'unknown.json');
    writeFileSync(unknown, JSON.stringify({ version: 3, ...where, cachedAt: 'x' }), { mode: 0o600 });
    await assert.rejects(loadSchedule(unknown, where), /unknown format/);
    const other = join(dir, 'other-v1.json');
    writeFileSync(
      other,
      JSON.stringify({ version: 1, ...where, server: 'bk2', cachedAt: 'x', entries: [] }),
      {
        mode: 0o600,
      },
    );
    await assert.rejects(loadSchedule(other, where), /another catalogue or server/);
    await assert.rejects(loadSchedule(join(dir, 'none.json'), where), /no cached schedule/);
  });
});
