import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createTestCatalogue } from '../../support/catalogues.ts';
import { localSetup } from '../../support/fixtures.ts';
import { assertNoStackTrace, REPO_ROOT, runCli, writeTree } from '../../support/run-cli.ts';
import { testServerUrl } from '../../support/test-database.ts';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../../support/throwaway-postgres.ts';

describe('pgbackman run while the catalogue is down', () => {
  let catalogue: ThrowawayPostgres;
  let work: string;
  let root: string;
  let cache: string;
  before(async () => {
    catalogue = await startThrowawayPostgres('catalogue-down');
    work = await mkdtemp(join(tmpdir(), 'pgbackman-down-'));
    root = join(work, 'backups');
    cache = join(work, 'cache');
    const manifests = await writeTree({ 'm.yaml': manifestsFor(root) });
    for (const args of [
      ['catalogue', 'migrate'],
      ['apply', manifests, '--auto-approve'],
    ]) {
      const r = await cli(args);
      assert.equal(r.code, 0, r.stderr);
    }
  });
  after(async () => {
    await catalogue?.stop();
    await rm(work, { recursive: true, force: true });
  });

  const cli = (args: readonly string[]) =>
    runCli(['--catalogue', catalogue.url, ...args], { env: { PGBACKMAN_CACHE: cache } });
  const backups = async () => {
    const r = await cli(['get', 'backups', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as { id: string; status: string }[])
      .map((b) => `${b.id} ${b.status}`)
      .sort();
  };
  const idOf = (stdout: string) => /Backup (\S+) SUCCEEDED/.exec(stdout)?.[1] as string;

  test('the dump is taken from the cached definition, and its record arrives when the catalogue returns', async () => {
    const first = await cli(['run', 'nightly']);
    assert.equal(first.code, 0, first.stderr);
    assert.doesNotMatch(first.stderr, /warning/);

    await catalogue.pause();
    const down = await cli(['run', 'nightly']);
    assertNoStackTrace(down);
    assert.equal(down.code, 0, down.stderr);
    assert.match(down.stderr, /warning: cannot connect to the catalogue at .*connection refused/);
    assert.match(
      down.stderr,
      /running BackupDefinition\/nightly as the catalogue had it at \d{4}-\d\d-\d\dT/,
    );
    assert.match(down.stderr, /this run's record waits in the spool/);
    const offline = idOf(down.stdout);
    const dir = /\n {2}(\S+)\n/.exec(down.stdout)?.[1] as string;
    assert.ok(existsSync(join(dir, 'database.dump')), 'the dump is on disk');
    assert.deepEqual(readdirSync(join(root, '.spool')), [`${offline}.json`]);
    // A second run while it is still down keeps the first one's record waiting too.
    const down2 = await cli(['run', 'nightly']);
    assert.equal(down2.code, 0, down2.stderr);
    const offline2 = idOf(down2.stdout);
    assert.deepEqual(
      readdirSync(join(root, '.spool')).sort(),
      [`${offline}.json`, `${offline2}.json`].sort(),
    );

    const never = await cli(['run', 'never-run']);
    assertNoStackTrace(never);
    assert.equal(never.code, 1);
    assert.match(never.stderr, /no cached copy of BackupDefinition\/never-run/);
    assert.match(never.stderr, /run it once while the catalogue is up/);

    await catalogue.resume();
    assert.deepEqual(
      await backups(),
      [`${idOf(first.stdout)} SUCCEEDED`],
      'not there until the next contact',
    );
    const back = await cli(['run', 'nightly']);
    assert.equal(back.code, 0, back.stderr);
    assert.match(back.stderr, /note: 2 record\(s\) waiting in the spool reached the catalogue/);
    assert.deepEqual(readdirSync(join(root, '.spool')), []);
    const all = await backups();
    assert.deepEqual(
      all,
      [idOf(first.stdout), offline, offline2, idOf(back.stdout)].map((id) => `${id} SUCCEEDED`).sort(),
    );

    const again = await cli(['run', 'nightly']);
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stderr, /spool/);
    assert.equal((await backups()).length, 5, 'each record arrives exactly once');
  });

  test('a catalogue that refuses the request (not one that is down) is never bypassed', async () => {
    const r = await cli(['run', 'no-such-definition']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /BackupDefinition\/no-such-definition is not in the catalogue/);
    assert.doesNotMatch(r.stderr, /cached/);
  });
});

function manifestsFor(root: string): string {
  const node = new URL(testServerUrl());
  return localSetup({
    root,
    host: node.hostname,
    port: node.port,
    definitions: { nightly: 'database: postgres', 'never-run': 'database: template1' },
  });
}

describe('pgbackman run while the embedded catalogue is held by another process', () => {
  test('the dump is taken from the cache, and recorded by the first run after the holder leaves', async () => {
    const cat = await createTestCatalogue('embedded', 'held-run');
    const work = await mkdtemp(join(tmpdir(), 'pgbackman-held-'));
    const root = join(work, 'backups');
    const cli = (args: readonly string[]) =>
      runCli(['--catalogue', cat.location, ...args], { env: { PGBACKMAN_CACHE: join(work, 'cache') } });
    try {
      const manifests = await writeTree({ 'm.yaml': manifestsFor(root) });
      assert.equal((await cli(['apply', manifests, '--auto-approve'])).code, 0);
      assert.equal((await cli(['run', 'nightly'])).code, 0);
      const holder = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          '-e',
          `const { connectEmbedded } = await import(${JSON.stringify(join(REPO_ROOT, 'src/catalogue/connect-embedded.ts'))});
           const db = await connectEmbedded(${JSON.stringify(cat.location)}, 'pgbackman agent (test)');
           console.log('open');
           process.stdin.on('data', async () => { await db.close(); process.exit(0); });`,
        ],
        { cwd: REPO_ROOT },
      );
      await new Promise<void>((resolve) =>
        holder.stdout.on('data', (d) => String(d).includes('open') && resolve()),
      );
      const held = await cli(['run', 'nightly']);
      holder.stdin.write('close\n');
      await new Promise((r) => holder.on('exit', r));
      assert.equal(held.code, 0, held.stderr);
      assert.match(
        held.stderr,
        /warning: the embedded catalogue .* is in use by pid \d+ \(pgbackman agent \(test\)\)/,
      );
      assert.match(held.stderr, /this run's record waits in the spool/);
      const after = await cli(['run', 'nightly']);
      assert.equal(after.code, 0, after.stderr);
      assert.match(after.stderr, /note: 1 record\(s\) waiting in the spool reached the catalogue/);
      const list = await cli(['get', 'backups', '-o', 'json']);
      assert.equal((JSON.parse(list.stdout) as unknown[]).length, 3);
    } finally {
      await cat.drop();
      await rm(work, { recursive: true, force: true });
    }
  });
});
