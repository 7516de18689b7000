import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { type AgentProcess, type LogLine, startAgent } from '../support/agent-process.ts';
import { tree } from '../support/file-tree.ts';
import { localSetup } from '../support/fixtures.ts';
import { createTestRepo, type TestRepo } from '../support/git-repo.ts';
import { type HoldingProxy, startHoldingProxy } from '../support/holding-proxy.ts';
import { runCli } from '../support/run-cli.ts';
import { startTestS3, type TestS3 } from '../support/s3-server.ts';
import { createSourceDatabase, testServerUrl, withClient, withDatabase } from '../support/test-database.ts';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../support/throwaway-postgres.ts';

const DB = 'sealed_offsite_source';
/** A row no stored byte may hold in plaintext. */
const SECRET = 'alice-1@example.org';
const BUCKET = 'offsite';
const PREFIX = 'site-a/';

interface Run {
  id: string;
  status: string;
  error: string | null;
  dumpPath: string | null;
  copies?: { destination: string; status: string; files: Record<string, { sha256: string }> | null }[];
}

describe('the agent on a git repository, its dumps sealed with age and sent to disk and a bucket at once', () => {
  let catalogueServer: ThrowawayPostgres;
  let s3: TestS3;
  let proxy: HoldingProxy;
  let repo: TestRepo;
  let dir: string;
  let root: string;
  let keyFile: string;
  let agent: AgentProcess | undefined;
  let admin: S3Client;
  const s3Env = () => ({
    PGBACKMAN_SECRET_S3_ID: s3.credentials.accessKeyId,
    PGBACKMAN_SECRET_S3_KEY: s3.credentials.secretAccessKey,
  });
  const cli = (...args: string[]) => runCli(['--catalogue', catalogueServer.url, ...args], { env: s3Env() });
  const allow = () => ['--allow-destination', `s3+http://${new URL(proxy.endpoint).host}/${BUCKET}`];
  const runs = async (): Promise<Run[]> => {
    const r = await cli('get', 'backups', '-o', 'json', '--limit', '1000');
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as Run[];
  };
  const runOf = async (id: unknown) => (await runs()).find((r) => r.id === id);
  const start = () =>
    startAgent(
      [
        '--catalogue',
        catalogueServer.url,
        ...allow(),
        'agent',
        '--server',
        'local',
        '--repo',
        repo.url,
        '--state-dir',
        join(dir, 'state'),
        '--interval',
        '2s',
        '--listen',
        '127.0.0.1:0',
        '--copy-retry-interval',
        '1s',
        '--grace',
        '2s',
      ],
      s3Env(),
    );
  const offsite = () =>
    `{name: offsite, s3: {endpoint: "${proxy.endpoint}", region: eu-north-1, bucket: ${BUCKET}, prefix: ${PREFIX}, forcePathStyle: true}, credentialsFrom: {env: {accessKeyId: PGBACKMAN_SECRET_S3_ID, secretAccessKey: PGBACKMAN_SECRET_S3_KEY}}}`;
  let serverSpec: string;
  const finished = (status: string) => (l: LogLine) => l.event === 'run_finished' && l.status === status;
  /** Every object in the bucket under the dump folder `folder` (relative to the root), with its bytes. */
  const objectsOf = async (folder: string): Promise<Map<string, Buffer>> => {
    const listed = await admin.send(
      new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${PREFIX}${folder}/` }),
    );
    const out = new Map<string, Buffer>();
    for (const o of listed.Contents ?? []) {
      const got = await admin.send(new GetObjectCommand({ Bucket: BUCKET, Key: o.Key }));
      out.set(
        (o.Key as string).slice(PREFIX.length + folder.length + 1),
        Buffer.from(
          await (got.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
        ),
      );
    }
    return out;
  };
  /**
   * Holds the upload of `file` by a run that starts from now on: never one the copy pass makes of an earlier
   * run (a run the last test's SIGTERM caught mid-copy). Resolves with the run, once its upload is held.
   */
  const holdNewRun = async (file: string): Promise<() => Promise<Run>> => {
    const known = (await runs()).map((r) => r.id.slice(0, 8));
    proxy.hold((path) => path.endsWith(`/${file}`) && !known.some((k) => path.includes(`-${k}/`)));
    return async () => {
      const path = await proxy.held();
      const short = /-([0-9a-f]{8})\/[^/]+$/.exec(path)?.[1] ?? '';
      const run = (await runs()).find((r) => r.id.startsWith(short));
      assert.ok(run !== undefined, `the run of ${path}`);
      return run;
    };
  };
  const folderOf = (run: Run) => relative(root, dirname(run.dumpPath as string));
  /** Every stop is clean: nothing (an upload, a retry's timer) holds the process open after the agent stops. */
  const stopAgent = async (signal: NodeJS.Signals) => {
    const stopping = agent;
    stopping?.signal(signal);
    const code = await stopping?.exited;
    agent = undefined;
    assert.doesNotMatch(stopping?.stderr() ?? '', /still held the process open/);
    return code;
  };

  before(async () => {
    // The catalogue on a cluster of its own, so it can stop while the node and the bucket stay up.
    catalogueServer = await startThrowawayPostgres('offsite-catalogue');
    assert.equal((await runCli(['--catalogue', catalogueServer.url, 'catalogue', 'migrate'])).code, 0);
    s3 = await startTestS3([BUCKET]);
    proxy = await startHoldingProxy(s3.endpoint);
    admin = new S3Client({
      endpoint: s3.endpoint,
      region: 'eu-north-1',
      forcePathStyle: true,
      credentials: s3.credentials,
    });
    repo = await createTestRepo();
    dir = await mkdtemp(join(tmpdir(), 'pgbackman-offsite-'));
    root = join(dir, 'root');
    keyFile = join(dir, 'key.txt');
    execFileSync('age-keygen', ['-o', keyFile], { stdio: 'ignore' });
    const recipient = execFileSync('age-keygen', ['-y', keyFile], { encoding: 'utf8' }).trim();
    await createSourceDatabase(
      DB,
      `create table customers as select g as id, 'alice-' || g || '@example.org' as email from generate_series(1, 500) g`,
    );
    const node = new URL(testServerUrl());
    await repo.push({
      'setup.yaml': localSetup({
        root,
        host: node.hostname,
        port: node.port,
        serverSpec: `storage: [{name: disk, local: {path: "${root}"}}, ${offsite()}], encryption: {age: {recipients: ["${recipient}"]}}`,
        definitions: { nightly: `database: ${DB}, schedule: "*/2 * * * * *"` },
      }),
    });
    serverSpec = `storage: [{name: disk, local: {path: "${root}"}}, ${offsite()}], encryption: {age: {recipients: ["${recipient}"]}}`;
  });
  // A test that failed midway leaves no agent behind for the next (it would refuse to start: AGENT_RUNNING).
  afterEach(async () => {
    proxy.release();
    if (agent === undefined) return;
    agent.signal('SIGKILL');
    await agent.exited;
    agent = undefined;
  });
  after(async () => {
    agent?.signal('SIGKILL');
    admin?.destroy();
    await proxy?.stop();
    await s3?.stop();
    await catalogueServer?.stop();
    await repo?.remove();
    await rm(dir, { recursive: true, force: true });
  });

  test('a scheduled dump lands sealed in both places, byte for byte, and the bucket alone restores it', async () => {
    agent = start();
    const done = await agent.waitFor(finished('SUCCEEDED'), 30_000);
    const run = (await runOf(done.run)) as Run;
    assert.deepEqual(
      run.copies?.map((c) => `${c.destination}=${c.status}`),
      ['offsite=COPIED'],
    );
    const local = tree(dirname(run.dumpPath as string));
    const stored = await objectsOf(folderOf(run));
    assert.deepEqual([...stored.keys()].sort(), [...local.keys()].sort());
    assert.ok(local.has('database.dump.age'), [...local.keys()].join(' '));
    for (const [name, bytes] of stored) {
      assert.ok(local.get(name)?.equals(bytes), `${name}: the bucket's copy is the file on disk`);
      assert.ok(!bytes.includes(SECRET), `${name} holds no row in plaintext`);
    }

    // The disk is lost: the catalogue's dump is restored from the bucket, with the key, and only with it.
    await rm(dirname(run.dumpPath as string), { recursive: true });
    const target = (name: string) => ['restore', run.id, '--node', 'n1', '--database', name];
    const refused = await cli(...allow(), ...target('offsite_restored'));
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /error\[RESTORE_REFUSED\]: .*encrypted \(age/);
    const restored = await cli(...allow(), '--identity', keyFile, ...target('offsite_restored'));
    assert.equal(restored.code, 0, restored.stderr);
    assert.match(restored.stderr, /restoring from its copy at offsite/);
    const emails = await withClient(
      withDatabase(testServerUrl(), 'offsite_restored'),
      async (c) => (await c.query('select count(*)::int as n from customers')).rows[0]?.n,
    );
    assert.equal(emails, 500);
    await withClient(testServerUrl(), (c) => c.query('drop database offsite_restored with (force)'));
    assert.equal(await stopAgent('SIGTERM'), 0);
  });

  test('SIGKILL while the dump is uploaded: on restart the run is FAILED, nothing of it is left anywhere, and the next dump reaches both', async () => {
    const held = await holdNewRun('database.dump.age');
    agent = start();
    const killed = await held();
    assert.equal(killed.status, 'RUNNING');
    assert.equal(await stopAgent('SIGKILL'), 'SIGKILL');
    proxy.release();

    agent = start();
    await agent.waitFor((l) => l.event === 'run_interrupted' && l.run === killed.id, 30_000);
    const next = await agent.waitFor(finished('SUCCEEDED'), 30_000);
    const after = (await runOf(killed.id)) as Run;
    assert.equal(after.status, 'FAILED');
    assert.match(String(after.error), /interrupted/);
    assert.equal(after.dumpPath, null);
    const good = (await runOf(next.run)) as Run;
    assert.deepEqual(
      good.copies?.map((c) => `${c.destination}=${c.status}`),
      ['offsite=COPIED'],
    );
    // Neither the disk nor the bucket holds a file of the killed run.
    const everything = await admin.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: PREFIX }));
    const keys = (everything.Contents ?? []).map((o) => o.Key as string);
    assert.ok(!keys.some((k) => k.includes(killed.id)), keys.join('\n'));
    assert.ok(![...tree(root).keys()].some((f) => f.includes(killed.id)));
    assert.equal(await stopAgent('SIGTERM'), 0);
  });

  test('SIGKILL while a finished dump is copied: it is SUCCEEDED_PARTIAL until the next start copies it, then SUCCEEDED', async () => {
    const held = await holdNewRun('backup.json');
    agent = start();
    const partial = await held();
    assert.equal(partial.status, 'SUCCEEDED_PARTIAL', 'the dump in place is recorded, its copy pending');
    assert.match(String(partial.error), /not copied to offsite: not tried yet/);
    assert.equal(await stopAgent('SIGKILL'), 'SIGKILL');
    proxy.release();

    agent = start();
    await agent.waitFor((l) => l.event === 'copies_retried' && Number(l.completed) >= 1, 30_000);
    const now = (await runOf(partial.id)) as Run;
    assert.equal(now.status, 'SUCCEEDED');
    assert.equal(now.error, null);
    assert.ok((await objectsOf(folderOf(now))).has('backup.json'));
    assert.equal(await stopAgent('SIGTERM'), 0);
  });

  test('a dump put in place by a process that died before recording it: recovered on the next start, and its copy made', async () => {
    agent = start();
    const done = await agent.waitFor(finished('SUCCEEDED'), 30_000);
    assert.equal(await stopAgent('SIGTERM'), 0);
    const run = (await runOf(done.run)) as Run;
    // As if the process died between renaming the folder into place and recording it (nothing copied yet).
    const gone = spawnSync(process.execPath, ['-e', '0']).pid;
    await withClient(catalogueServer.url, async (c) => {
      await c.query(
        `update pgbackman.backup_runs set status = 'RUNNING', finished_at = null, dump_path = null, sha256 = null,
                error = null, host = null, pid = $2 where id = $1`,
        [run.id, gone],
      );
      await c.query('delete from pgbackman.dump_copies where run_id = $1', [run.id]);
    });
    for (const name of (await objectsOf(folderOf(run))).keys())
      await admin.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}${folderOf(run)}/${name}` }));

    agent = start();
    await agent.waitFor((l) => l.event === 'run_recovered' && l.run === run.id, 30_000);
    await agent.waitFor((l) => l.event === 'copies_retried' && Number(l.completed) >= 1, 30_000);
    const now = (await runOf(run.id)) as Run;
    assert.equal(now.status, 'SUCCEEDED', JSON.stringify(now));
    assert.deepEqual(
      now.copies?.map((c) => `${c.destination}=${c.status}`),
      ['offsite=COPIED'],
    );
    const local = tree(dirname(run.dumpPath as string));
    const stored = await objectsOf(folderOf(run));
    assert.deepEqual([...stored.keys()].sort(), [...local.keys()].sort());
    assert.equal(await stopAgent('SIGTERM'), 0);
  });

  test('SIGTERM while the dump is uploaded: the agent stops within its grace, the run is FAILED and what it streamed is removed', async () => {
    const held = await holdNewRun('database.dump.age');
    agent = start();
    const running = await held();
    assert.equal(running.status, 'RUNNING');
    const asked = Date.now();
    // The held upload is cancelled with the run: stopAgent asserts it does not keep the process open after.
    assert.equal(await stopAgent('SIGTERM'), 0);
    assert.ok(Date.now() - asked < 15_000, `it took ${Date.now() - asked} ms to stop`);
    proxy.release();
    const after = (await runOf(running.id)) as Run;
    assert.equal(after.status, 'FAILED');
    assert.match(String(after.error), /interrupted by/);
    assert.ok(![...tree(root).keys()].some((f) => f.includes(running.id)));
    const keys = (
      (await admin.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: PREFIX }))).Contents ?? []
    ).map((o) => o.Key as string);
    assert.ok(!keys.some((k) => k.includes(running.id)), keys.join('\n'));
  });

  test('the catalogue stops while a copy is in flight: the agent goes on, and the copy is recorded once it is back', async () => {
    const held = await holdNewRun('backup.json');
    agent = start();
    const pending = await held();
    assert.equal(pending.status, 'SUCCEEDED_PARTIAL');
    await catalogueServer.pause();
    const from = agent.lines.length;
    proxy.release();
    // Dumps go on (their records spooled) while the catalogue is down.
    await agent.waitFor((l) => l.event === 'run_spooled', 30_000, from);
    await catalogueServer.resume();
    await agent.waitFor((l) => l.event === 'spool_replayed', 30_000, from);
    await agent.waitFor((l) => l.event === 'copies_retried' && Number(l.completed) >= 1, 30_000, from);
    const now = (await runOf(pending.id)) as Run;
    assert.equal(now.status, 'SUCCEEDED', JSON.stringify(now));
    assert.ok((await objectsOf(folderOf(now))).has('backup.json'));
    // Every dump the agent took while the catalogue was down reaches it, and the bucket, too.
    const spooled = agent.lines
      .slice(from)
      .filter((l) => l.event === 'run_spooled')
      .map((l) => l.run);
    assert.ok(spooled.length > 0);
    const until = Date.now() + 30_000;
    let all = await runs();
    while (spooled.some((id) => all.find((r) => r.id === id)?.status !== 'SUCCEEDED') && Date.now() < until) {
      await sleep(500);
      all = await runs();
    }
    for (const id of spooled) {
      const r = all.find((x) => x.id === id);
      assert.equal(r?.status, 'SUCCEEDED', JSON.stringify(r));
      assert.deepEqual(
        r?.copies?.map((c) => c.status),
        ['COPIED'],
      );
    }
    assert.equal(await stopAgent('SIGTERM'), 0);
  });

  test('a definition whose storage starts with the bucket: each dump is sealed there, its staging folder released, and the bucket restores it', async () => {
    const node = new URL(testServerUrl());
    await repo.push({
      'setup.yaml': localSetup({
        root,
        host: node.hostname,
        port: node.port,
        serverSpec,
        definitions: {
          nightly: `database: ${DB}, schedule: "*/2 * * * * *", suspend: true`,
          'bucket-only': `database: ${DB}, schedule: "*/2 * * * * *", storage: [${offsite()}]`,
        },
      }),
    });
    agent = start();
    const released = await agent.waitFor((l) => l.event === 'root_released', 45_000);
    const run = (await runOf(released.run)) as Run & { rootCopy: string; definition: string };
    assert.deepEqual(
      [run.definition, run.status, run.rootCopy, run.copies?.map((c) => `${c.destination}=${c.status}`)],
      ['bucket-only', 'SUCCEEDED', 'RELEASED', ['offsite=COPIED']],
    );
    assert.ok(
      ![...tree(root).keys()].some((f) => f.includes(run.id.slice(0, 8))),
      'nothing of it stays in the root',
    );
    const stored = await objectsOf(folderOf(run));
    assert.ok(stored.has('database.dump.age') && stored.has('backup.json'), [...stored.keys()].join(' '));
    for (const [name, bytes] of stored)
      assert.ok(!bytes.includes(SECRET), `${name} holds no row in plaintext`);
    assert.equal(await stopAgent('SIGTERM'), 0);

    const restore = (...key: string[]) =>
      cli(...allow(), ...key, 'restore', run.id, '--node', 'n1', '--database', 'bucket_only_restored');
    // Without a key: refused before anything is fetched from the bucket.
    const keyless = await restore();
    assert.equal(keyless.code, 1);
    assert.match(keyless.stderr, /error\[RESTORE_REFUSED\]: backup \S+ is encrypted \(age/);
    assert.doesNotMatch(keyless.stderr, /restoring from its copy/);
    // verify with a key reads it whole from the bucket, as it reads a dump the root keeps: a wrong key is said.
    const checked = await cli(...allow(), '--identity', keyFile, 'verify', run.id);
    assert.equal(checked.code, 0, checked.stdout + checked.stderr);
    assert.match(checked.stdout, new RegExp(`^${run.id} OK `));
    const otherKey = join(dir, 'other-key.txt');
    execFileSync('age-keygen', ['-o', otherKey], { stdio: 'ignore' });
    const wrong = await cli(...allow(), '--identity', otherKey, 'verify', run.id);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stdout, new RegExp(`^${run.id} UNDECRYPTABLE`));
    const restored = await restore('--identity', keyFile);
    assert.equal(restored.code, 0, restored.stderr);
    assert.match(restored.stderr, /only staged in the root directory: restoring from its copy at offsite/);
    const emails = await withClient(withDatabase(testServerUrl(), 'bucket_only_restored'), async (c) =>
      Number((await c.query('select count(*) as n from customers')).rows[0]?.n),
    );
    assert.equal(emails, 500);
    await withClient(testServerUrl(), (c) =>
      c.query('drop database if exists bucket_only_restored with (force)'),
    );
  });
});
