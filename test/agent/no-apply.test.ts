import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { conditionsOf } from '../../src/agent/conditions.ts';
import { isStale } from '../../src/catalogue/agents.ts';
import { startAgent } from '../support/agent-process.ts';
import { createTestCatalogue, type TestCatalogue } from '../support/catalogues.ts';
import { localSetup } from '../support/fixtures.ts';
import { runCli } from '../support/run-cli.ts';
import { testServerUrl } from '../support/test-database.ts';

describe('an agent with --no-apply (CI applies)', () => {
  let catalogue: TestCatalogue;
  let dir: string;
  const node = new URL(testServerUrl());
  const manifests = (definitions: Record<string, string>) =>
    localSetup({ root: join(dir, 'root'), host: node.hostname, port: node.port, definitions });
  const cli = (...args: string[]) => runCli(['--catalogue', catalogue.location, ...args]);

  before(async () => {
    catalogue = await createTestCatalogue('postgres', 'no-apply');
    dir = await mkdtemp(join(tmpdir(), 'pgbackman-no-apply-'));
  });
  after(async () => {
    await catalogue?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  test('never applies: it schedules what the catalogue holds; SIGHUP reconciles at once', async () => {
    const applied = join(dir, 'applied');
    const watched = join(dir, 'watched');
    await mkdir(applied);
    await mkdir(watched);
    await writeFile(
      join(applied, 'm.yaml'),
      manifests({ nightly: 'database: postgres, schedule: "0 3 * * *"' }),
    );
    assert.equal((await cli('apply', applied, '--auto-approve')).code, 0);
    await writeFile(
      join(watched, 'm.yaml'),
      manifests({
        nightly: 'database: postgres, schedule: "0 3 * * *"',
        extra: 'database: postgres, schedule: "0 4 * * *"',
      }),
    );
    const agent = startAgent([
      '--catalogue',
      catalogue.location,
      'agent',
      '--server',
      'local',
      '--watch',
      watched,
      '--no-apply',
      '--state-dir',
      join(dir, 'state'),
      '--listen',
      'none',
    ]);
    try {
      const reconciled = await agent.waitFor((l) => l.event === 'reconciled');
      assert.equal(reconciled.outcome, 'observed');
      const scheduled = agent.lines.filter((l) => l.event === 'scheduled').at(-1);
      assert.equal(scheduled?.entries, 1, "only the catalogue's definition is scheduled");
      const defs = JSON.parse((await cli('get', 'definitions', '-o', 'json')).stdout) as { name: string }[];
      assert.deepEqual(
        defs.map((d) => d.name),
        ['nightly'],
      );
      const from = agent.lines.length;
      agent.signal('SIGHUP');
      await agent.waitFor((l) => l.event === 'reconcile_requested' && l.why === 'SIGHUP', 10_000, from);
    } finally {
      agent.signal('SIGTERM');
      assert.equal(await agent.exited, 0, agent.stderr());
    }
  });

  test('a revision the catalogue refused is tried again when someone asks, since the catalogue may have changed', async () => {
    // The catalogue holds a definition that refuses to be destroyed; the agent's manifests no longer have it.
    const other = join(dir, 'guarded');
    const watched = join(dir, 'watched-guarded');
    await mkdir(other);
    await mkdir(watched);
    const guarded = (prevent: boolean) =>
      manifests({ kept: `database: postgres, lifecycle: {preventDestroy: ${prevent}}` });
    await writeFile(join(other, 'm.yaml'), guarded(true));
    assert.equal((await cli('apply', other, '--auto-approve')).code, 0);
    await writeFile(join(watched, 'm.yaml'), manifests({}));
    const agent = startAgent([
      '--catalogue',
      catalogue.location,
      'agent',
      '--server',
      'local',
      '--watch',
      watched,
      '--state-dir',
      join(dir, 'state-guarded'),
      '--listen',
      'none',
    ]);
    try {
      const refused = await agent.waitFor((l) => l.event === 'reconciled');
      assert.equal(refused.reason, 'ApplyFailed', JSON.stringify(refused));
      // The operator lifts the guard from the command line; the agent's revision is the same as before.
      await writeFile(join(other, 'm.yaml'), guarded(false));
      assert.equal((await cli('apply', other, '--auto-approve')).code, 0);
      const r = await cli('reconcile', '--timeout', '30s');
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /✔ local@.+: Applied revision: sha256:/);
      const defs = JSON.parse((await cli('get', 'definitions', '-o', 'json')).stdout) as unknown[];
      assert.equal(defs.length, 0, 'the agent applied its revision this time');
    } finally {
      agent.signal('SIGTERM');
      assert.equal(await agent.exited, 0, agent.stderr());
    }
  });

  test('Stale after three missed heartbeats; conditions say what only a new revision can fix', () => {
    const now = new Date('2026-12-02T12:00:00Z');
    const beat = (secondsAgo: number) => ({
      heartbeatAt: new Date(now.getTime() - secondsAgo * 1000).toISOString(),
      intervalMs: 10_000,
    });
    assert.equal(isStale(beat(29), now), false);
    assert.equal(isStale(beat(31), now), true);
    const table: [Parameters<typeof conditionsOf>[0], string][] = [
      [
        { kind: 'applied', revision: 'main@sha1:a', serial: 3, changes: 1 },
        'Ready=True Reconciling=False Stalled=False',
      ],
      [
        { kind: 'invalid', revision: 'main@sha1:b', message: 'x' },
        'Ready=False Reconciling=False Stalled=True',
      ],
      [
        { kind: 'refused', revision: 'main@sha1:b', message: 'x' },
        'Ready=False Reconciling=False Stalled=True',
      ],
      [{ kind: 'source-failed', message: 'x' }, 'Ready=False Reconciling=True Stalled=False'],
      [
        { kind: 'catalogue-failed', revision: null, message: 'x' },
        'Ready=False Reconciling=True Stalled=False',
      ],
    ];
    for (const [outcome, expected] of table) {
      const got = conditionsOf(outcome, 'main@sha1:a')
        .map((c) => `${c.type}=${c.status}`)
        .join(' ');
      assert.equal(got, expected, outcome.kind);
    }
    const invalid = conditionsOf(
      { kind: 'invalid', revision: 'main@sha1:b', message: 'm.yaml:1:1: error' },
      'main@sha1:a',
    );
    assert.equal(invalid[0]?.reason, 'ValidationFailed');
    assert.match(
      invalid[0]?.message ?? '',
      /main@sha1:b is invalid \(keeping main@sha1:a\):\nm\.yaml:1:1: error/,
    );
  });
});
