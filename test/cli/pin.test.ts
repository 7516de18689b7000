import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { upsertRun } from '../../src/catalogue/backup-runs.ts';
import { withCatalogue } from '../../src/catalogue/open-catalogue.ts';
import { markDeleted, markDeleting } from '../../src/catalogue/retention-steps.ts';
import { BACKENDS, createTestCatalogue, type TestCatalogue } from '../support/catalogues.ts';
import { localSetup } from '../support/fixtures.ts';
import { assertNoStackTrace, runCli, writeTree } from '../support/run-cli.ts';
import { testServerUrl } from '../support/test-database.ts';

const ME = `${userInfo().username}@${hostname()}`;
const ID = /^Backup ([0-9a-f-]{36}) (SUCCEEDED|FAILED)/m;

for (const backend of BACKENDS) {
  describe(`pin and unpin (${backend} catalogue)`, () => {
    // The embedded catalogue costs an open per command; the cases that test the command's own logic, not how
    // the catalogue keeps it, run against PostgreSQL only. Those marked `test` run on both.
    const postgresOnly = (name: string, fn: () => Promise<void>): void => {
      if (backend === 'postgres') test(name, fn);
    };
    let catalogue: TestCatalogue;
    let root: string;
    const server = new URL(testServerUrl());
    const cli = async (...args: string[]) => {
      const r = await runCli(['--catalogue', catalogue.location, ...args]);
      assertNoStackTrace(r);
      return r;
    };
    /** A real `pgbackman run` of a definition; its backup id. */
    const dump = async (definition: string) => {
      const r = await cli('run', definition);
      const id = ID.exec(r.stdout)?.[1];
      assert.ok(id, r.stdout + r.stderr);
      return id;
    };
    const json = async (...flags: string[]) =>
      JSON.parse((await cli('get', 'backups', '-o', 'json', ...flags)).stdout) as Record<string, unknown>[];
    const row = (table: string, id: string) => table.split('\n').find((l) => l.startsWith(id.slice(0, 8)));
    /** `BackupDefinition/shop, 2026-11-30 02:00Z`: the dump as pin and unpin name it. */
    const label = async (id: string) => {
      const [b] = (await json('--all')).filter((r) => r.id === id);
      return `${id} (BackupDefinition/${b?.definition}, ${String(b?.startedAt).slice(0, 16).replace('T', ' ')}Z)`;
    };

    before(async () => {
      catalogue = await createTestCatalogue(backend, 'pin');
      root = await mkdtemp(join(tmpdir(), 'pgbackman-pin-root-'));
      // The server's own postgres database: creating and dropping one would break a concurrent pg_dumpall.
      const definitions = { shop: 'database: postgres', gone: 'database: no_such_database' };
      const dir = await writeTree({
        'm.yaml': localSetup({ root, host: server.hostname, port: server.port, definitions }),
      });
      const r = await cli('apply', dir, '--auto-approve');
      assert.equal(r.code, 0, r.stderr + r.stdout);
    });
    after(async () => {
      await catalogue?.drop();
      await rm(root, { recursive: true, force: true });
    });

    // The embedded catalogue's own case: a pin is kept and removed there too (about 5 s a command there).
    if (backend === 'embedded')
      test('pin and unpin are kept in the embedded catalogue', async () => {
        const id = await dump('shop');
        const pinned = await cli('pin', id, '--reason', 'quarterly audit');
        assert.deepEqual([pinned.code, pinned.stderr], [0, '']);
        const [listed] = (await json()).filter((b) => b.id === id);
        const pin = listed?.pin as { by: string; reason: string } | undefined;
        assert.deepEqual([pin?.by, pin?.reason], [ME, 'quarterly audit']);
        assert.equal((await cli('unpin', id)).code, 0);
        assert.equal((await json()).find((b) => b.id === id)?.pin, null);
      });

    postgresOnly('pin records who, when and why; get and describe show it; unpin removes it', async () => {
      const id = await dump('shop');
      const before = Date.now();
      const pinned = await cli('pin', id.slice(0, 8), '--reason', 'quarterly audit');
      assert.deepEqual(
        [pinned.code, pinned.stdout, pinned.stderr],
        [0, `pinned ${await label(id)}: quarterly audit\n`, ''],
      );

      const [listed] = (await json()).filter((b) => b.id === id);
      const pin = listed?.pin as { at: string; by: string; reason: string };
      assert.deepEqual(
        [pin.by, pin.reason, listed?.deletion, listed?.deletedReason],
        [ME, 'quarterly audit', null, null],
      );
      assert.ok(Math.abs(Date.parse(pin.at) - before) < 60_000, pin.at);
      assert.match(
        row((await cli('get', 'backups')).stdout, id) ?? '',
        /^[0-9a-f]{8}\s+SUCCEEDED \(pinned\)\s+-\s+local\s/,
      );
      const described = await cli('describe', 'backup', id.slice(0, 8));
      assert.ok(
        described.stdout.startsWith(
          `id: ${id}\nstatus: SUCCEEDED\npinned: by ${ME} at ${pin.at} (quarterly audit)\n`,
        ),
        described.stdout,
      );

      const unpinned = await cli('unpin', id);
      assert.deepEqual(
        [unpinned.code, unpinned.stdout],
        [0, `unpinned ${await label(id)} (was pinned by ${ME} at ${pin.at} (quarterly audit))\n`],
      );
      assert.equal((await json()).find((b) => b.id === id)?.pin, null);
      assert.match(row((await cli('get', 'backups')).stdout, id) ?? '', /^[0-9a-f]{8}\s+SUCCEEDED\s+-\s/);
      assert.doesNotMatch((await cli('describe', 'backup', id)).stdout, /pinned/);
      const again = await cli('unpin', id);
      assert.deepEqual([again.code, again.stderr], [1, `error[INVALID_INPUT]: backup ${id} is not pinned\n`]);
    });

    postgresOnly(
      'without --reason the pin has none; pinning again replaces the pin and says whose it was',
      async () => {
        const id = await dump('shop');
        const first = await cli('pin', id);
        assert.deepEqual([first.code, first.stdout], [0, `pinned ${await label(id)}\n`]);
        const firstPin = (await json()).find((b) => b.id === id)?.pin as { at: string; reason: null };
        assert.equal(firstPin.reason, null);
        const second = await cli('pin', id, '--reason', 'legal hold');
        assert.deepEqual(
          [second.code, second.stdout, second.stderr],
          [
            0,
            `pinned ${await label(id)}: legal hold\n`,
            `note: it was pinned by ${ME} at ${firstPin.at}; this pin replaces it\n`,
          ],
        );
        const secondPin = (await json()).find((b) => b.id === id)?.pin as { reason: string } | undefined;
        assert.equal(secondPin?.reason, 'legal hold');
      },
    );

    postgresOnly('a failed run cannot be pinned', async () => {
      const id = await dump('gone');
      const r = await cli('pin', id);
      assert.deepEqual(
        [r.code, r.stdout, r.stderr],
        [1, '', `error[INVALID_INPUT]: backup ${id} is FAILED: only a successful dump can be pinned\n`],
      );
    });

    postgresOnly('an unknown id, a prefix two dumps share, or what is no id at all is refused', async () => {
      const unknown = await cli('pin', '00000000-dead');
      assert.deepEqual(
        [unknown.code, unknown.stderr],
        [1, 'error[NOT_FOUND]: no backup with an id starting with "00000000-dead"\n'],
      );
      // Two runs whose ids share their first 8 characters, recorded as the agent's spool records runs.
      await withCatalogue(catalogue.location, 'test', async (db) => {
        for (const id of ['abcabc00-0000-4000-8000-000000000001', 'abcabc00-0000-4000-8000-000000000002'])
          await upsertRun(db, fixtureRun(id));
      });
      for (const command of ['pin', 'unpin']) {
        const r = await cli(command, 'abcabc00');
        assert.deepEqual(
          [r.code, r.stderr],
          [1, 'error[INVALID_INPUT]: more than one backup id starts with "abcabc00"; give more of it\n'],
        );
      }
      assert.equal((await cli('pin', 'abcabc00-0000-4000-8000-000000000001')).code, 0);
      const wildcard = await cli('pin', '%');
      assert.deepEqual(
        [wildcard.code, wildcard.stderr],
        [64, 'error[USAGE]: "%" is not a backup id (see `pgbackman get backups`)\n'],
      );
    });

    // Catalogue-agnostic (the embedded variant of pin's statements runs above; deletion states on PGlite in
    // retention's plan-batches): PostgreSQL only, it costs the embedded run 29 s of CLI starts.
    postgresOnly(
      'a dump being deleted or deleted cannot be pinned; get and describe show the deletion',
      async () => {
        const deleting = await dump('shop');
        const deleted = await dump('shop');
        await withCatalogue(catalogue.location, 'test', async (db) => {
          const reason = 'expired: older than 14d';
          const marked = await markDeleting(
            db,
            [deleting, deleted].map((id) => ({ id, reason })),
          );
          assert.equal(marked.size, 2);
          await markDeleted(db, [deleted]);
        });

        const table = (await cli('get', 'backups')).stdout;
        assert.match(row(table, deleting) ?? '', /^[0-9a-f]{8}\s+DELETING\s/);
        assert.equal(row(table, deleted), undefined, 'a deleted dump is left out');
        assert.match(
          row((await cli('get', 'backups', '--all')).stdout, deleted) ?? '',
          /^[0-9a-f]{8}\s+DELETED\s/,
        );
        const onlyDeleted = await json('--status', 'deleted');
        assert.deepEqual(
          onlyDeleted.map((b) => [b.id, b.status, b.deletion, b.deletedReason, b.pin]),
          [[deleted, 'SUCCEEDED', 'DELETED', 'expired: older than 14d', null]],
        );
        assert.deepEqual(
          (await json('--status', 'DELETING')).map((b) => b.id),
          [deleting],
        );
        const deletedAt = onlyDeleted[0]?.deletedAt;
        assert.match(
          (await cli('describe', 'backup', deleted)).stdout,
          new RegExp(
            `^id: ${deleted}\\nstatus: SUCCEEDED\\ndeletion: "DELETED at ${deletedAt} \\(expired: older than 14d\\)"\\n`,
          ),
        );
        assert.match(
          (await cli('describe', 'backup', deleting)).stdout,
          /\nstatus: SUCCEEDED\ndeletion: "DELETING \(expired: older than 14d\)"\n/,
        );

        const pinDeleting = await cli('pin', deleting);
        assert.deepEqual(
          [pinDeleting.code, pinDeleting.stderr],
          [
            1,
            `error[INVALID_INPUT]: backup ${deleting} is being deleted (expired: older than 14d): its files may already be gone, so it cannot be pinned\n`,
          ],
        );
        const pinDeleted = await cli('pin', deleted);
        assert.deepEqual(
          [pinDeleted.code, pinDeleted.stderr],
          [
            1,
            `error[INVALID_INPUT]: backup ${deleted} was deleted at ${deletedAt} (expired: older than 14d): there is nothing left to pin\n`,
          ],
        );
        const unpinDeleted = await cli('unpin', deleted);
        assert.deepEqual(
          [unpinDeleted.code, unpinDeleted.stderr],
          [1, `error[INVALID_INPUT]: backup ${deleted} is not pinned\n`],
        );
      },
    );

    postgresOnly('a pin survives the deletion of its definition', async () => {
      const id = await dump('shop');
      assert.equal((await cli('pin', id, '--reason', 'last dump of shop')).code, 0);
      const dir = await writeTree({
        'm.yaml': localSetup({
          root,
          host: server.hostname,
          port: server.port,
          definitions: { gone: 'database: no_such_database' },
        }),
      });
      const applied = await cli('apply', dir, '--auto-approve');
      assert.match(applied.stdout, /BackupDefinition\/shop/, applied.stderr);
      assert.equal((await cli('describe', 'definition/shop')).code, 1);
      const pin = (await json()).find((b) => b.id === id)?.pin as { by: string; reason: string } | undefined;
      assert.deepEqual([pin?.by, pin?.reason], [ME, 'last dump of shop']);
    });

    postgresOnly(
      'get backups -o json keeps its fields and adds pin, deletion and deletedReason',
      async () => {
        const [b] = await json('--all');
        assert.deepEqual(Object.keys(b ?? {}).sort(), [
          'code',
          'configPath',
          'copies',
          'database',
          'databaseBytes',
          'definition',
          'deletedAt',
          'deletedReason',
          'deletion',
          'dumpBytes',
          'dumpPath',
          'durationMs',
          'encryption',
          'error',
          'finishedAt',
          'id',
          'logPath',
          'missed',
          'node',
          'pgDumpVersion',
          'pin',
          'restoreVerifiedAt',
          'restoreVerifyDetails',
          'restoreVerifyStatus',
          'retention',
          'revision',
          'rolesPath',
          'rootCopy',
          'server',
          'serverVersion',
          'sha256',
          'snapshot',
          'sourceSystemIdentifier',
          'startedAt',
          'status',
          'tableEstimates',
          'verifiedAt',
          'verifyError',
          'verifyStatus',
        ]);
      },
    );
  });
}

/** A successful run with no files, for ids chosen by the test. */
function fixtureRun(id: string) {
  const startedAt = new Date(Date.now() - 3_600_000);
  return {
    start: {
      id,
      server: 'local',
      node: 'n1',
      database: 'shop',
      code: 'FULL',
      definition: 'shop',
      snapshot: null,
      startedAt,
      retention: null,
      host: 'test',
      pid: 1,
    },
    end: {
      status: 'SUCCEEDED' as const,
      finishedAt: new Date(startedAt.getTime() + 1000),
      dumpBytes: 1,
      dumpPath: null,
      logPath: null,
      rolesPath: null,
      configPath: null,
      sha256: null,
      pgDumpVersion: null,
      serverVersion: null,
      databaseBytes: null,
      error: null,
    },
  };
}
