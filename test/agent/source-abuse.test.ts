import assert from 'node:assert/strict';
import { symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type AgentProcess, startAgent } from '../support/agent-process.ts';
import { createTestCatalogue, type TestCatalogue } from '../support/catalogues.ts';
import { localSetup } from '../support/fixtures.ts';
import { createTestRepo } from '../support/git-repo.ts';
import { runCli } from '../support/run-cli.ts';
import { testServerUrl } from '../support/test-database.ts';

/** What a manifest author or a source URL must not be able to do to an agent. */
describe("the agent's sources, as a hostile repository or a careless operator would try them", () => {
  let catalogue: TestCatalogue;
  let dir: string;
  const running: AgentProcess[] = [];
  const agent = (...args: string[]) => {
    const a = startAgent([
      '--catalogue',
      catalogue.location,
      'agent',
      '--server',
      'local',
      '--listen',
      'none',
      ...args,
    ]);
    running.push(a);
    return a;
  };
  const node = new URL(testServerUrl());

  before(async () => {
    catalogue = await createTestCatalogue('postgres', 'source-abuse');
    dir = await mkdtemp(join(tmpdir(), 'pgbackman-source-abuse-'));
  });
  after(async () => {
    for (const a of running) a.signal('SIGKILL');
    await catalogue?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  test('a manifest that is a symlink to a secret is checked out as a plain file: the secret is never read', async () => {
    const secret = join(dir, 'secret.yaml');
    // Were it read, validate would quote it: `/apiVersion: must be "pgbackman.io/v1" (got "hunter2-…")`.
    writeFileSync(
      secret,
      'apiVersion: hunter2-do-not-leak\nkind: BackupServer\nmetadata: {name: x}\nspec: {hostname: y}\n',
      {
        mode: 0o600,
      },
    );
    const repo = await createTestRepo();
    symlinkSync(secret, join(repo.work, 'leak.yaml'));
    await repo.push({
      'setup.yaml': localSetup({
        root: join(dir, 'root'),
        host: node.hostname,
        port: node.port,
        definitions: {},
      }),
    });
    const a = agent('--repo', repo.url, '--state-dir', join(dir, 'state-symlink'), '--interval', '1m');
    const line = await a.waitFor((l) => l.event === 'reconciled');
    a.signal('SIGTERM');
    await a.exited;
    const everything = JSON.stringify(a.lines) + a.stderr();
    assert.ok(!everything.includes('hunter2'), 'the secret does not appear in any log line');
    const agents = (await runCli(['--catalogue', catalogue.location, 'get', 'agents', '-o', 'json'])).stdout;
    assert.ok(!agents.includes('hunter2'));
    // The link's text (a path) is what git checked out; it is not a manifest, so the revision is refused.
    assert.equal(line.reason, 'ValidationFailed', JSON.stringify(line));
    await repo.remove();
  });

  test('--path cannot leave the repository', async () => {
    const repo = await createTestRepo();
    await repo.push({ 'setup.yaml': 'x' });
    for (const path of ['../..', '/etc']) {
      const a = agent('--repo', repo.url, '--path', path, '--state-dir', join(dir, 'state-path'));
      const code = await a.exited;
      assert.equal(code, 64, `--path ${path}: ${a.stderr()}`);
      assert.match(a.stderr(), /error\[USAGE\]: --path: ".+" must be a directory inside the repository/);
    }
    await repo.remove();
  });

  test('a token in the repository URL never reaches a log line or the catalogue', async () => {
    const a = agent(
      '--repo',
      'http://deploy:s3cr3t-token@127.0.0.1:9/manifests.git',
      '--state-dir',
      join(dir, 'state-token'),
      '--interval',
      '1m',
    );
    const failed = await a.waitFor((l) => l.event === 'reconciled' && l.reason === 'SourceFailed');
    a.signal('SIGTERM');
    assert.equal(await a.exited, 0, a.stderr());
    assert.match(String(failed.msg), /deploy:\*\*\*@127\.0\.0\.1/);
    const everything = JSON.stringify(a.lines) + a.stderr();
    assert.ok(!everything.includes('s3cr3t-token'), everything);
    const agents = (await runCli(['--catalogue', catalogue.location, 'get', 'agents', '-o', 'json'])).stdout;
    assert.ok(!agents.includes('s3cr3t-token'), agents);
    assert.match(agents, /"reason": "SourceFailed"/);
  });

  test('--watch DIR: a change to the directory is applied within seconds, with a sha256 revision', async () => {
    const watched = join(dir, 'watched');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(watched);
    await writeFile(
      join(watched, 'setup.yaml'),
      localSetup({ root: join(dir, 'root'), host: node.hostname, port: node.port, definitions: {} }),
    );
    const a = agent('--watch', watched, '--state-dir', join(dir, 'state-watch'), '--interval', '10m');
    const first = await a.waitFor((l) => l.event === 'reconciled' && l.outcome === 'applied');
    const from = a.lines.length;
    await writeFile(
      join(watched, 'setup.yaml'),
      localSetup({
        root: join(dir, 'root'),
        host: node.hostname,
        port: node.port,
        definitions: { added: 'database: postgres, schedule: "0 4 * * *"' },
      }),
    );
    const second = await a.waitFor((l) => l.event === 'reconciled' && l.outcome === 'applied', 10_000, from);
    assert.match(String(first.msg), /Applied revision: sha256:[0-9a-f]{64}$/);
    assert.notEqual(first.msg, second.msg);
    a.signal('SIGTERM');
    assert.equal(await a.exited, 0, a.stderr());
    const defs = (await runCli(['--catalogue', catalogue.location, 'get', 'definitions', '-o', 'json']))
      .stdout;
    assert.match(defs, /"name": "added"/);
  });

  test('an agent without a source, or with two, is a usage error', async () => {
    const none = agent('--state-dir', join(dir, 'state-none'));
    assert.equal(await none.exited, 64);
    assert.match(none.stderr(), /exactly one source: --repo URL \(git\) or --watch DIR/);
    const bad = agent('--watch', dir, '--interval', '5 minutes', '--state-dir', join(dir, 'state-none'));
    assert.equal(await bad.exited, 64);
    assert.match(bad.stderr(), /--interval: "5 minutes" is not a duration/);
  });
});
