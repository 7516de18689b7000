import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type AgentProcess, startAgent } from '../support/agent-process.ts';
import { createTestCatalogue, type TestCatalogue } from '../support/catalogues.ts';
import { localSetup } from '../support/fixtures.ts';
import { parsePromText, samplesOf } from '../support/prom-text.ts';
import { createSourceDatabase, testServerUrl, withClient } from '../support/test-database.ts';

const DB = 'sweep_source';

describe("the agent sweeps its server's dumps by retention", () => {
  let catalogue: TestCatalogue;
  let dir: string;
  let agent: AgentProcess | undefined;

  before(async () => {
    catalogue = await createTestCatalogue('postgres', 'sweep');
    dir = await mkdtemp(join(tmpdir(), 'pgbackman-sweep-'));
    await createSourceDatabase(DB);
  });
  after(async () => {
    agent?.signal('SIGKILL');
    await catalogue?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  test('after each successful dump, keeping the two newest: older dumps go, rows and files alike, and /metrics counts them', async () => {
    const node = new URL(testServerUrl());
    const manifests = join(dir, 'manifests');
    await rm(manifests, { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(manifests, { recursive: true }));
    await writeFile(
      join(manifests, 'setup.yaml'),
      localSetup({
        root: join(dir, 'root'),
        host: node.hostname,
        port: node.port,
        definitions: { often: `database: ${DB}, schedule: "*/2 * * * * *", retention: {keep: {last: 2}}` },
      }),
    );
    agent = startAgent([
      '--catalogue',
      catalogue.location,
      'agent',
      '--server',
      'local',
      '--watch',
      manifests,
      '--state-dir',
      join(dir, 'state'),
      '--listen',
      '127.0.0.1:0',
    ]);
    const deleted = await agent.waitFor((l) => l.event === 'retention_deleted', 30_000);
    assert.match(String(deleted.msg), /deleted dump [0-9a-f-]{36}: kept by no rule/);
    const rows = await withClient(
      catalogue.location,
      async (c) =>
        (
          await c.query(
            `select id::text, dump_path, deletion from pgbackman.backup_runs where definition = 'often' and status = 'SUCCEEDED' order by started_at`,
          )
        ).rows as { id: string; dump_path: string; deletion: string | null }[],
    );
    const gone = rows.filter((r) => r.deletion === 'DELETED');
    assert.ok(gone.some((r) => r.id === deleted.run));
    for (const r of gone) assert.ok(!existsSync(r.dump_path), `${r.id}'s files are gone`);
    // The newest are kept; one more may have finished since the last sweep.
    assert.ok(rows.filter((r) => r.deletion === null).length >= 2);
    const address = (await agent.waitFor((l) => l.event === 'listening')).address as string;
    const metrics = parsePromText(await (await fetch(`http://${address}/metrics`)).text());
    const [total] = samplesOf(metrics, 'pgbackman_retention_deleted_total');
    assert.ok((total?.value ?? 0) >= 1);
    agent.signal('SIGTERM');
    assert.equal(await agent.exited, 0, agent.stderr());
    agent = undefined;
  });
});
