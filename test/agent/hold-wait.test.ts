import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startAgent } from '../support/agent-process.ts';
import { createTestCatalogue, type TestCatalogue } from '../support/catalogues.ts';
import { REPO_ROOT } from '../support/run-cli.ts';

let catalogue: TestCatalogue;
let dir: string;

before(async () => {
  catalogue = await createTestCatalogue('embedded', 'hold-wait');
  dir = await mkdtemp(join(tmpdir(), 'pgbackman-hold-wait-'));
});
after(async () => {
  await catalogue?.drop();
  await rm(dir, { recursive: true, force: true });
});

test('an agent waiting for a one-shot holder of the embedded catalogue stops at once on SIGTERM', async () => {
  // A holder that does not serve (like `run` while it records): the agent must wait for it, not open it.
  const holder = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '-e',
      `const { connectEmbedded } = await import(${JSON.stringify(join(REPO_ROOT, 'src/catalogue/connect-embedded.ts'))});
       const db = await connectEmbedded(${JSON.stringify(catalogue.location)}, 'pgbackman run');
       process.stdout.write('held\\n');
       process.on('SIGTERM', async () => { await db.close(); process.exit(0); });
       setInterval(() => {}, 1000);`,
    ],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    await new Promise<void>((resolve) => holder.stdout?.once('data', () => resolve()));
    const agent = startAgent([
      '--catalogue',
      catalogue.location,
      'agent',
      '--server',
      'local',
      '--watch',
      dir,
      '--state-dir',
      join(dir, 'state'),
      '--listen',
      'none',
    ]);
    await agent.waitFor((l) => l.event === 'catalogue_in_use');
    const at = Date.now();
    agent.signal('SIGTERM');
    assert.equal(await agent.exited, 0, agent.stderr());
    assert.ok(Date.now() - at < 5_000, 'it did not wait out the 60 s');
    assert.ok(!agent.lines.some((l) => l.event === 'agent_starting'), 'nothing was started');
  } finally {
    holder.kill('SIGTERM');
  }
});
