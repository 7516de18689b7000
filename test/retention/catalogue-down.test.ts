import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { localSetup } from '../support/fixtures.ts';
import { assertNoStackTrace, REPO_ROOT, runCli, writeTree } from '../support/run-cli.ts';
import { createSourceDatabase, testServerUrl, withClient } from '../support/test-database.ts';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../support/throwaway-postgres.ts';

const DB = 'retention_down_source';

describe('retention apply when the catalogue goes down in the middle', () => {
  let catalogue: ThrowawayPostgres;
  let root: string;
  const cli = (...args: string[]) => runCli(['--catalogue', catalogue.url, ...args]);
  const rows = () =>
    withClient(
      catalogue.url,
      async (c) =>
        (
          await c.query(
            "select id::text, dump_path, deletion from pgbackman.backup_runs where status = 'SUCCEEDED' order by started_at",
          )
        ).rows as { id: string; dump_path: string; deletion: string | null }[],
    );

  before(async () => {
    // The catalogue on a cluster of its own, so it can stop while the node stays up.
    catalogue = await startThrowawayPostgres('retention-catalogue');
    assert.equal((await cli('catalogue', 'migrate')).code, 0);
    root = await mkdtemp(join(tmpdir(), 'pgbackman-retention-down-'));
    await createSourceDatabase(DB);
  });
  after(async () => {
    await catalogue?.stop();
    await rm(root, { recursive: true, force: true });
  });

  test('the sweep stops at the first step it cannot record: the dump after it is not touched', async () => {
    const node = new URL(testServerUrl());
    const manifests = await writeTree({
      'setup.yaml': localSetup({
        root,
        host: node.hostname,
        port: node.port,
        definitions: { nightly: `database: ${DB}, retention: {period: 1d, redundancy: 1}` },
      }),
    });
    assert.equal((await cli('apply', manifests, '--auto-approve')).code, 0);
    for (let i = 0; i < 3; i++) assert.equal((await cli('run', 'nightly')).code, 0);
    await withClient(catalogue.url, (c) =>
      c.query(
        "update pgbackman.backup_runs set finished_at = finished_at - interval '30 days', started_at = started_at - interval '30 days'",
      ),
    );
    const [first, second] = await rows();
    assert.ok(first && second);
    // Many files make each removal take a while: time to stop the catalogue inside the first.
    for (const d of [first, second])
      for (let i = 0; i < 30_000; i++) writeFileSync(join(dirname(d.dump_path), `pad-${i}`), '');
    const child = spawn(
      process.execPath,
      [
        join(REPO_ROOT, 'bin', 'pgbackman.js'),
        '--catalogue',
        catalogue.url,
        'retention',
        'apply',
        '--auto-approve',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (b) => {
      stderr += String(b);
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    for (let i = 0; i < 2000; i++) {
      if ((await rows()).find((r) => r.id === first.id)?.deletion === 'DELETING') break;
      await sleep(5);
    }
    await catalogue.pause();
    const code = await exited;
    assertNoStackTrace({ code: code ?? -1, stdout: '', stderr });
    assert.equal(code, 1);
    assert.match(stderr, /catalogue/i);
    await catalogue.resume();
    const after = await rows();
    assert.equal(
      after.find((r) => r.id === first.id)?.deletion,
      'DELETING',
      'its last step could not be recorded',
    );
    assert.equal(after.find((r) => r.id === second.id)?.deletion, null, 'the next dump was never started on');
    assert.ok(existsSync(join(dirname(second.dump_path), 'pad-29999')), 'and its files are all there');
    // Back up: the next sweep finishes the first and takes the second, which has expired too.
    const r = await cli('retention', 'apply', '--auto-approve');
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!existsSync(dirname(first.dump_path)) && !existsSync(dirname(second.dump_path)));
  });
});
