import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { type AgentProcess, startAgent } from '../support/agent-process.ts';
import { createTestCatalogue, type TestCatalogue } from '../support/catalogues.ts';
import { localSetup } from '../support/fixtures.ts';
import { parsePromText, samplesOf } from '../support/prom-text.ts';
import { startTestS3, type TestS3 } from '../support/s3-server.ts';
import { createSourceDatabase, testServerUrl, withClient } from '../support/test-database.ts';

const DB = 'copy_retry_source';

describe('the agent tries failed copies again', () => {
  let catalogue: TestCatalogue;
  let s3: TestS3;
  let dir: string;
  let agent: AgentProcess | undefined;

  before(async () => {
    catalogue = await createTestCatalogue('postgres', 'copy-retry');
    s3 = await startTestS3([]);
    dir = await mkdtemp(join(tmpdir(), 'pgbackman-copy-retry-'));
    await createSourceDatabase(DB);
  });
  after(async () => {
    agent?.signal('SIGKILL');
    await catalogue?.drop();
    await s3?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('a bucket that is missing at first: dumps are SUCCEEDED_PARTIAL, then copied on a later pass and SUCCEEDED', async () => {
    const node = new URL(testServerUrl());
    const manifests = join(dir, 'manifests');
    await mkdir(manifests, { recursive: true });
    const root = join(dir, 'root');
    await writeFile(
      join(manifests, 'setup.yaml'),
      localSetup({
        root,
        host: node.hostname,
        port: node.port,
        serverSpec: `storage: [{name: disk, local: {path: "${root}"}}, {name: offsite, s3: {endpoint: "${s3.endpoint}", region: eu-north-1, bucket: arrives-later, forcePathStyle: true}, credentialsFrom: {env: {accessKeyId: PGBACKMAN_SECRET_S3_ID, secretAccessKey: PGBACKMAN_SECRET_S3_KEY}}}]`,
        definitions: { often: `database: ${DB}, schedule: "*/3 * * * * *"` },
      }),
    );
    agent = startAgent(
      [
        '--catalogue',
        catalogue.location,
        '--allow-destination',
        `s3+http://${new URL(s3.endpoint).host}/arrives-later`,
        'agent',
        '--server',
        'local',
        '--watch',
        manifests,
        '--state-dir',
        join(dir, 'state'),
        '--listen',
        '127.0.0.1:0',
        '--copy-retry-interval',
        '1s',
      ],
      {
        PGBACKMAN_SECRET_S3_ID: s3.credentials.accessKeyId,
        PGBACKMAN_SECRET_S3_KEY: s3.credentials.secretAccessKey,
      },
    );
    const failed = await agent.waitFor((l) => l.event === 'copy_failed', 30_000);
    assert.match(String(failed.msg), /copy to offsite failed: .*the bucket does not exist/);
    const partial = await agent.waitFor(
      (l) => l.event === 'run_finished' && l.status === 'SUCCEEDED_PARTIAL',
      30_000,
    );

    const admin = new S3Client({
      endpoint: s3.endpoint,
      region: 'eu-north-1',
      forcePathStyle: true,
      credentials: s3.credentials,
    });
    await admin.send(new CreateBucketCommand({ Bucket: 'arrives-later' }));
    admin.destroy();
    const retried = await agent.waitFor(
      (l) => l.event === 'copies_retried' && Number(l.completed) >= 1,
      30_000,
    );
    assert.match(String(retried.msg), /copies retried: \d+ of \d+ made; \d+ dump\(s\) SUCCEEDED again/);
    // /metrics: the failures by destination, and the bytes the later copies sent.
    const address = (await agent.waitFor((l) => l.event === 'listening')).address as string;
    const metrics = parsePromText(await (await fetch(`http://${address}/metrics`)).text());
    const [failures] = samplesOf(metrics, 'pgbackman_copy_failures_total', { destination: 'offsite' });
    const [uploaded] = samplesOf(metrics, 'pgbackman_upload_bytes_total', { destination: 'offsite' });
    assert.ok((failures?.value ?? 0) >= 1, JSON.stringify(failures));
    assert.ok((uploaded?.value ?? 0) > 0, JSON.stringify(uploaded));
    agent.signal('SIGTERM');
    assert.equal(await agent.exited, 0, agent.stderr());
    agent = undefined;

    // The dump that was partial is SUCCEEDED now, its copy recorded COPIED.
    const rows = await withClient(
      catalogue.location,
      async (c) =>
        (
          await c.query(
            `select r.status, r.error, c.status as copy from pgbackman.backup_runs r
             join pgbackman.dump_copies c on c.run_id = r.id where r.id = $1::uuid`,
            [partial.run],
          )
        ).rows as { status: string; error: string | null; copy: string }[],
    );
    assert.deepEqual(rows, [{ status: 'SUCCEEDED', error: null, copy: 'COPIED' }]);
  });
});
