import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { withCatalogue } from '../../src/catalogue/open-catalogue.ts';
import { parseAllowedDestinations } from '../../src/storage/allowed-destinations.ts';
import { retryCopies } from '../../src/storage/retry-copies.ts';
import { s3Destination } from '../../src/storage/s3-destination.ts';
import { createTestCatalogue, type TestCatalogue } from '../support/catalogues.ts';
import { tree } from '../support/file-tree.ts';
import { localSetup } from '../support/fixtures.ts';
import { assertNoStackTrace, runCli, writeTree } from '../support/run-cli.ts';
import { startTestS3, type TestS3 } from '../support/s3-server.ts';
import { createSourceDatabase, testServerUrl, withClient, withDatabase } from '../support/test-database.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const SOURCE = 'bucket_primary_src';
const RESTORED = 'bucket_primary_restored';

interface Row {
  id: string;
  status: string;
  error: string | null;
  rootCopy: string;
  dumpPath: string;
  copies: { destination: string; status: string }[];
}

describe('a bucket as the primary: the root directory only stages each dump until every destination holds it', () => {
  let catalogue: TestCatalogue;
  let s3: TestS3;
  let scratch: string;
  const host = () => new URL(s3.endpoint).host;
  const env = () => ({
    PGBACKMAN_SECRET_S3_ID: s3.credentials.accessKeyId,
    PGBACKMAN_SECRET_S3_KEY: s3.credentials.secretAccessKey,
  });
  const cli = async (args: string[]) => {
    const r = await runCli(['--catalogue', catalogue.location, ...args], { env: env() });
    assertNoStackTrace(r);
    return r;
  };
  const credentials =
    '{env: {accessKeyId: PGBACKMAN_SECRET_S3_ID, secretAccessKey: PGBACKMAN_SECRET_S3_KEY}}';
  const bucketAt = (bucket: string, prefix: string) =>
    `{name: offsite, s3: {endpoint: "${s3.endpoint}", region: eu-north-1, bucket: ${bucket}, prefix: ${prefix}, forcePathStyle: true}, credentialsFrom: ${credentials}}`;
  /** A server `local` whose storage is `storage`, with a definition `d` of SOURCE; returns its root. */
  const setup = async (name: string, storage: string, definition = `database: ${SOURCE}`) => {
    const root = join(scratch, name, 'root');
    const manifests = localSetup({
      root,
      host: '127.0.0.1',
      port: new URL(testServerUrl()).port,
      serverSpec: `storage: [${storage}]`,
      definitions: { d: definition },
    });
    const r = await cli(['apply', await writeTree({ 'm.yaml': manifests }), '--auto-approve']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    return root;
  };
  const backups = async (): Promise<Row[]> =>
    JSON.parse((await cli(['get', 'backups', '-o', 'json'])).stdout);
  const backup = async (id: string) => (await backups()).find((b) => b.id === id) as Row;
  const reader = (bucket: string, prefix: string) =>
    s3Destination(
      'check',
      { endpoint: s3.endpoint, region: 'eu-north-1', bucket, prefix, forcePathStyle: true },
      { credentials: s3.credentials },
    );
  const objects = async (bucket: string, prefix: string) => {
    const r = reader(bucket, prefix);
    try {
      return await r.list(1000);
    } finally {
      r.close();
    }
  };
  const retry = (allow: string[]) =>
    withCatalogue(catalogue.location, 'test', (db) =>
      retryCopies(db, 'local', {
        allowed: parseAllowedDestinations(allow),
        env: { ...process.env, ...env() },
        secretsDir: scratch,
      }),
    );

  // Each test's copy pass sees only its own dumps (another test's partial dump would be retried too).
  const catalogues: TestCatalogue[] = [];
  const ownCatalogue = async (name: string) => {
    catalogue = await createTestCatalogue('postgres', `bucket-primary-${name}`);
    catalogues.push(catalogue);
  };
  before(async () => {
    await ownCatalogue('first');
    s3 = await startTestS3(['dumps']);
    scratch = await mkdtemp(join(tmpdir(), 'pgbackman-bucket-primary-'));
    await createSourceDatabase(
      SOURCE,
      "create table accounts as select g as id, 'owner-' || g || '@example.org' as email from generate_series(1, 300) g",
    );
  });
  after(async () => {
    for (const c of catalogues) await c.drop();
    await s3?.stop();
    await rm(scratch, { recursive: true, force: true });
    await withClient(testServerUrl(), async (c) => {
      for (const db of [SOURCE, RESTORED]) await c.query(`drop database if exists ${db} with (force)`);
    });
  });

  test('the dump lands in the bucket and on a second disk, its root folder is removed, and the bucket alone verifies and restores it', async () => {
    const second = join(scratch, 'site-b');
    const root = await setup(
      'first',
      `${bucketAt('dumps', 'primary/')}, {name: second, local: {path: "${second}"}}`,
    );
    const allow = ['--allow-destination', second, '--allow-destination', `s3+http://${host()}/dumps/primary`];
    const r = await cli([...allow, 'run', 'd']);
    assert.equal(r.code, 0, r.stderr);
    const [, id, dir] =
      /^Backup ([0-9a-f-]{36}) SUCCEEDED: .*\n {2}(\S+) \(staged there, removed once every destination held it\)\n/.exec(
        r.stdout,
      ) ?? [];
    assert.ok(id && dir, r.stdout);
    const folder = relative(root, dir);
    assert.match(r.stdout, new RegExp(`\\n {2}copied to offsite: s3://dumps/primary/${folder}/ at `));
    assert.match(r.stdout, new RegExp(`\\n {2}copied to second: ${join(second, folder)} `));
    assert.equal(existsSync(dir), false, 'the staging folder is removed');
    assert.equal(existsSync(join(root, 'n1', SOURCE)), true, 'the database folder stays');

    const row = await backup(id);
    assert.deepEqual(
      [row.status, row.rootCopy, row.copies.map((c) => `${c.destination}=${c.status}`)],
      ['SUCCEEDED', 'RELEASED', ['offsite=COPIED', 'second=COPIED']],
    );
    // The bucket holds every file the second disk holds, byte for byte.
    const disk = tree(join(second, folder));
    assert.ok(disk.has('backup.json') && disk.has('database.dump'), [...disk.keys()].join(', '));
    const inBucket = await objects('dumps', 'primary/');
    assert.deepEqual(inBucket, [...disk.keys()].map((f) => `${folder}/${f}`).sort());
    const check = reader('dumps', 'primary/');
    try {
      for (const [file, bytes] of disk) {
        const chunks: Buffer[] = [];
        for await (const c of await check.get(`${folder}/${file}`)) chunks.push(c as Buffer);
        assert.equal(sha(Buffer.concat(chunks)), sha(bytes), file);
      }
    } finally {
      check.close();
    }

    // verify: the dump is what its copies hold; no MISSING for the folder that was only staged.
    const verified = await cli([...allow, 'verify', id]);
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    assert.match(
      verified.stdout,
      new RegExp(`^${id} OK \\(released from the root directory: kept at offsite, second\\)\\n`),
    );
    assert.match(verified.stdout, /\n {2}copy at offsite OK \(\d+ files\)\n {2}copy at second OK/);
    // --deep: every copy read back and re-hashed, and the dump fetched whole and read by pg_restore.
    const deep = await cli([...allow, 'verify', '--deep', id]);
    assert.equal(deep.code, 0, deep.stdout + deep.stderr);
    assert.match(
      deep.stdout,
      new RegExp(`^${id} OK \\(released from the root directory: kept at offsite, second\\)`),
    );

    // Where none of its copies may be asked (no --allow-destination): UNCHECKED, exit 1, and nothing recorded.
    const unchecked = await cli(['verify', id]);
    assert.equal(unchecked.code, 1);
    assert.match(
      unchecked.stdout,
      new RegExp(
        `^${id} UNCHECKED: released from the root directory, and none of its copies could be checked: offsite \\(destination offsite is not one this process may reach`,
      ),
    );
    assert.equal(((await backup(id)) as Row & { verifyStatus: string }).verifyStatus, 'OK');

    // restore: from the primary, the bucket.
    const restored = await cli([...allow, 'restore', id, '--node', 'n1', '--database', RESTORED]);
    assert.equal(restored.code, 0, restored.stderr);
    assert.match(
      restored.stderr,
      /The dump was only staged in the root directory: restoring from its copy at offsite \(s3:\/\/dumps\/primary\//,
    );
    const rows = await withClient(withDatabase(testServerUrl(), RESTORED), async (c) =>
      Number((await c.query('select count(*) as n from accounts')).rows[0]?.n),
    );
    assert.equal(rows, 300);

    // The second disk loses its copy: verify finds it MISSING, and the copy pass makes it again from the
    // bucket (the root holds nothing of it), byte for byte.
    await rm(join(second, folder), { recursive: true });
    const noSecond = await cli([...allow, 'verify', id]);
    assert.equal(noSecond.code, 1);
    assert.match(noSecond.stdout, /\n {2}copy at second MISSING: /);
    assert.match(noSecond.stderr, /^1 verified: 0 OK, 1 failed$/m);
    assert.equal((await backup(id)).status, 'SUCCEEDED_PARTIAL');
    assert.deepEqual(await retry([second, `s3+http://${host()}/dumps/primary`]), {
      runs: 1,
      completed: 1,
      tried: 1,
      failed: 0,
      removed: 0,
    });
    const again = tree(join(second, folder));
    assert.deepEqual([...again.keys()].sort(), [...disk.keys()].sort());
    for (const [file, bytes] of disk) assert.equal(sha(again.get(file) as Buffer), sha(bytes), file);
    assert.deepEqual([(await backup(id)).status, existsSync(dir)], ['SUCCEEDED', false]);
    assert.deepEqual(
      existsSync(join(root, '.fetch')) ? tree(join(root, '.fetch')).size : 0,
      0,
      'the fetched copy is removed',
    );

    // Its objects gone from the bucket: verify says so (exit 1), naming the copy.
    const gone = reader('dumps', 'primary/');
    try {
      for (const key of inBucket) await gone.delete(key);
    } finally {
      gone.close();
    }
    const lost = await cli(['--allow-destination', `s3+http://${host()}/dumps/primary`, 'verify', id]);
    assert.equal(lost.code, 1);
    assert.match(
      lost.stdout,
      new RegExp(
        `^${id} MISSING: released from the root directory, and no copy could be found sound: offsite MISSING`,
      ),
    );
  });

  test('a manifest naming a bucket the operator has not allowed as the primary: nothing is sent there, and the dump stays in the root', async () => {
    await ownCatalogue('hostile');
    // A merged pull request may name any bucket first; only --allow-destination decides where dumps go, and
    // a dump leaves the root only once the primary holds a recorded copy.
    await setup('hostile', bucketAt('dumps', 'elsewhere/'));
    const r = await cli(['--allow-destination', `s3+http://${host()}/dumps/primary`, 'run', 'd']);
    assert.equal(r.code, 0, r.stderr);
    const [, id, dir] = /^Backup (\S+) SUCCEEDED_PARTIAL: .*\n {2}(\S+)\n/.exec(r.stdout) ?? [];
    assert.ok(id && dir, r.stdout);
    assert.match(r.stdout, /NOT copied to offsite: .*is not one this agent's operator allows/);
    assert.equal(existsSync(join(dir, 'database.dump')), true);
    assert.deepEqual(await objects('dumps', 'elsewhere/'), []);
    assert.deepEqual(await retry([`s3+http://${host()}/dumps/primary`]), {
      runs: 1,
      completed: 0,
      tried: 1,
      failed: 1,
      removed: 0,
    });
    assert.deepEqual([(await backup(id)).rootCopy, existsSync(join(dir, 'database.dump'))], ['KEPT', true]);
  });

  test('a later manifest that turns a copy destination into a bucket primary of the same name: the copy pass removes nothing from the root', async () => {
    await ownCatalogue('renamed');
    const copiesAt = join(scratch, 'renamed-copies');
    // Taken with the root first and a local copy named "a": the root keeps it, "a" holds a copy.
    const root = await setup(
      'renamed',
      `{name: main, local: {path: "${join(scratch, 'renamed', 'root')}"}}, {name: a, local: {path: "${copiesAt}"}}`,
    );
    const r = await cli(['--allow-destination', copiesAt, 'run', 'd']);
    const [, id, dir] = /^Backup (\S+) SUCCEEDED: .*\n {2}(\S+)\n/.exec(r.stdout) ?? [];
    assert.ok(id && dir && root, r.stdout + r.stderr);
    // A pull request names "a" as a bucket, first: the copy recorded under that name is not in that bucket.
    await setup('renamed', bucketAt('dumps', 'renamed/').replace('name: offsite', 'name: a'));
    const allowed = [copiesAt, `s3+http://${host()}/dumps/renamed`];
    const pass = await retry(allowed);
    assert.equal(pass.released, undefined, JSON.stringify(pass));
    assert.deepEqual([(await backup(id)).rootCopy, existsSync(join(dir, 'database.dump'))], ['KEPT', true]);
  });

  test('the bucket out of reach: the dump stays in the root (SUCCEEDED_PARTIAL); the copy pass copies it, then removes the folder', async () => {
    await ownCatalogue('late');
    const root = await setup('late', bucketAt('late-primary', 'p/'));
    const allow = [`s3+http://${host()}/late-primary`];
    const r = await cli(['--allow-destination', allow[0] as string, 'run', 'd']);
    assert.equal(r.code, 0, r.stderr);
    const [, id, dir] = /^Backup (\S+) SUCCEEDED_PARTIAL: .*\n {2}(\S+)\n/.exec(r.stdout) ?? [];
    assert.ok(id && dir, r.stdout);
    assert.match(
      r.stderr,
      /warning: the dump is in the root directory, but not copied to offsite: .*bucket/i,
    );
    assert.equal(existsSync(join(dir, 'database.dump')), true);
    assert.equal((await backup(id)).rootCopy, 'KEPT');

    // Still no bucket: the pass fails to copy, and the folder stays.
    assert.deepEqual(await retry(allow), { runs: 1, completed: 0, tried: 1, failed: 1, removed: 0 });
    assert.equal(existsSync(join(dir, 'database.dump')), true);

    const admin = new S3Client({
      endpoint: s3.endpoint,
      region: 'eu-north-1',
      forcePathStyle: true,
      credentials: s3.credentials,
    });
    await admin.send(new CreateBucketCommand({ Bucket: 'late-primary' }));
    admin.destroy();
    assert.deepEqual(await retry(allow), {
      runs: 1,
      completed: 1,
      tried: 1,
      failed: 0,
      removed: 0,
      released: 1,
    });
    assert.equal(existsSync(dir), false);
    const row = await backup(id);
    assert.deepEqual([row.status, row.rootCopy], ['SUCCEEDED', 'RELEASED']);
    assert.ok((await objects('late-primary', 'p/')).includes(`${relative(root, dir)}/database.dump`));
  });

  test('a release a killed process left half done is finished by the copy pass; retention deletes a released dump from the bucket', async () => {
    await ownCatalogue('kept');
    const root = await setup(
      'kept',
      bucketAt('dumps', 'kept/'),
      `database: ${SOURCE}, retention: {keep: {last: 1}}`,
    );
    const allow = [`s3+http://${host()}/dumps/kept`];
    const ids: string[] = [];
    for (const _ of [1, 2]) {
      const r = await cli(['--allow-destination', allow[0] as string, 'run', 'd']);
      const id = /^Backup (\S+) SUCCEEDED: /.exec(r.stdout)?.[1];
      assert.ok(id, r.stdout + r.stderr);
      ids.push(id);
    }
    const [first, newest] = ids as [string, string];
    // Killed between marking the release and removing the folder: RELEASING, and the folder still there.
    const dumpPath = (await backup(newest)).dumpPath;
    const dir = join(dumpPath, '..');
    mkdirSync(dir, { recursive: true });
    writeFileSync(dumpPath, 'left behind');
    await withClient(catalogue.location, (c) =>
      c.query("update pgbackman.backup_runs set root_copy = 'RELEASING' where id = $1::uuid", [newest]),
    );
    assert.deepEqual(await retry(allow), {
      runs: 0,
      completed: 0,
      tried: 0,
      failed: 0,
      removed: 0,
      released: 1,
    });
    assert.equal(existsSync(dir), false);
    assert.equal((await backup(newest)).rootCopy, 'RELEASED');

    // Retention keeps the newest: the first goes from the bucket, nothing in the root to remove.
    const firstFolder = relative(root, join((await backup(first)).dumpPath, '..'));
    assert.ok((await objects('dumps', 'kept/')).some((k) => k.startsWith(`${firstFolder}/`)));
    const swept = await cli([
      '--allow-destination',
      allow[0] as string,
      'retention',
      'apply',
      '--auto-approve',
    ]);
    assert.equal(swept.code, 0, swept.stderr);
    assert.match(swept.stdout, new RegExp(`deleted ${first} `));
    const left = await objects('dumps', 'kept/');
    assert.equal(
      left.some((k) => k.startsWith(`${firstFolder}/`)),
      false,
      left.join(', '),
    );
    assert.ok(
      left.some((k) => k.endsWith('/database.dump')),
      'the newest dump stays in the bucket',
    );

    // The catalogue lost: a new one, the manifests applied, the bucket imported. The dump comes back released
    // (its storage stages in the root, and its folder is not there), so verify looks at the bucket for it.
    await ownCatalogue('kept-rebuilt');
    await setup('kept', bucketAt('dumps', 'kept/'), `database: ${SOURCE}, retention: {keep: {last: 1}}`);
    const imported = await cli(['catalogue', 'import', `s3+http://${host()}/dumps/kept/`]);
    assert.equal(imported.code, 0, imported.stdout + imported.stderr);
    assert.match(imported.stdout, new RegExp(`${newest} imported: `));
    assert.equal((await backup(newest)).rootCopy, 'RELEASED');
    const verified = await cli(['--allow-destination', allow[0] as string, 'verify', newest]);
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    assert.match(
      verified.stdout,
      new RegExp(`^${newest} OK \\(released from the root directory: kept at offsite\\)`),
    );
  });
});
