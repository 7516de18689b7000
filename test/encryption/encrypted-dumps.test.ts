import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { parse } from 'yaml';
import { s3Destination } from '../../src/storage/s3-destination.ts';
import { createTestCatalogue, type TestCatalogue } from '../support/catalogues.ts';
import { tree } from '../support/file-tree.ts';
import { localSetup } from '../support/fixtures.ts';
import { assertNoStackTrace, runCli, writeTree } from '../support/run-cli.ts';
import { startTestS3, type TestS3 } from '../support/s3-server.ts';
import { createSourceDatabase, testServerUrl, withClient, withDatabase } from '../support/test-database.ts';

// A value only the rows hold: if it shows in any stored byte, plaintext reached the disk or the bucket.
const SECRET = 'alice-4111-1111-1111-1111@secret.example';
const PG_BIN = '/usr/lib/postgresql/15/bin';
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('encrypted dumps: sealed for age recipients as they are written, restored only with a key', () => {
  let catalogue: TestCatalogue;
  let s3: TestS3;
  let scratch: string;
  let manifestDir: string;
  const keys: Record<'alice' | 'bob', { file: string; recipient: string }> = {} as never;
  const env = () => ({
    PGBACKMAN_SECRET_S3_ID: s3.credentials.accessKeyId,
    PGBACKMAN_SECRET_S3_KEY: s3.credentials.secretAccessKey,
  });
  const cli = async (args: string[], extraEnv: NodeJS.ProcessEnv = {}) => {
    const r = await runCli(['--catalogue', catalogue.location, ...args], { env: { ...env(), ...extraEnv } });
    assertNoStackTrace(r);
    return r;
  };
  const allow = () => ['--allow-destination', `s3+http://${new URL(s3.endpoint).host}/dumps/sealed`];
  const rowsOf = (database: string) =>
    withClient(
      withDatabase(testServerUrl(), database),
      async (c) =>
        (
          await c.query(
            "select count(*)::int as n, md5(string_agg(email, ',' order by id)) as sum from customers",
          )
        ).rows[0],
    );
  const exists = (database: string) =>
    withClient(
      testServerUrl(),
      async (c) => (await c.query('select 1 from pg_database where datname = $1', [database])).rowCount,
    );
  const drop = (database: string) =>
    withClient(testServerUrl(), (c) => c.query(`drop database if exists ${database} with (force)`));

  before(async () => {
    catalogue = await createTestCatalogue('postgres', 'encrypted-dumps');
    s3 = await startTestS3(['dumps']);
    scratch = await mkdtemp(join(tmpdir(), 'pgbackman-sealed-'));
    for (const name of ['alice', 'bob'] as const) {
      const file = join(scratch, `${name}.key`);
      execFileSync('age-keygen', ['-o', file], { stdio: 'ignore' });
      keys[name] = { file, recipient: execFileSync('age-keygen', ['-y', file], { encoding: 'utf8' }).trim() };
    }
    await createSourceDatabase(
      'sealed_source',
      `create table customers as select g as id, case when g = 7 then '${SECRET}' else md5(g::text) end as email
         from generate_series(1, 3000) g`,
    );
    const root = join(scratch, 'root');
    const node = new URL(testServerUrl());
    const credentials =
      '{env: {accessKeyId: PGBACKMAN_SECRET_S3_ID, secretAccessKey: PGBACKMAN_SECRET_S3_KEY}}';
    const manifests = localSetup({
      root,
      host: '127.0.0.1',
      port: node.port,
      serverSpec: `storage: [{name: disk, local: {path: "${root}"}}, {name: offsite, s3: {endpoint: "${s3.endpoint}", region: eu-north-1, bucket: dumps, prefix: sealed/, forcePathStyle: true}, credentialsFrom: ${credentials}}], encryption: {age: {recipients: ["${keys.alice.recipient}"]}}`,
      definitions: {
        custom: 'database: sealed_source',
        plain: 'database: sealed_source, format: plain',
      },
    });
    manifestDir = await writeTree({ 'm.yaml': manifests });
    const applied = await cli(['apply', manifestDir, '--auto-approve']);
    assert.equal(applied.code, 0, applied.stderr + applied.stdout);
  });
  after(async () => {
    await catalogue?.drop();
    await s3?.stop();
    await rm(scratch, { recursive: true, force: true });
    await drop('sealed_restored');
  });

  /** The bucket's copies read (or changed) with a client of their own, not pgbackman's. */
  const sealedBucket = () =>
    s3Destination(
      'check',
      {
        endpoint: s3.endpoint,
        region: 'eu-north-1',
        bucket: 'dumps',
        prefix: 'sealed/',
        forcePathStyle: true,
      },
      { credentials: s3.credentials },
    );

  /** An object put with the SDK itself, under any key (what a hostile writer of the bucket could do). */
  async function rawPut(key: string, body: Buffer): Promise<void> {
    const client = new S3Client({
      endpoint: s3.endpoint,
      region: 'eu-north-1',
      forcePathStyle: true,
      credentials: s3.credentials,
    });
    try {
      await client.send(new PutObjectCommand({ Bucket: 'dumps', Key: key, Body: body }));
    } finally {
      client.destroy();
    }
  }

  /** Runs a definition and returns its id, folder and the folder's path under the root. */
  async function run(name: string): Promise<{ id: string; dir: string; folder: string }> {
    const r = await cli([...allow(), 'run', name]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const [, id, dir] = /^Backup ([0-9a-f-]{36}) SUCCEEDED: .*\n {2}(.+)\n/.exec(r.stdout) ?? [];
    assert.ok(id && dir, r.stdout);
    assert.match(r.stdout, /\n {2}copied to offsite: s3:\/\/dumps\/sealed\//);
    return { id, dir, folder: relative(join(scratch, 'root'), dir) };
  }

  /** Every object of the folder in the bucket, read back with its own client. */
  async function bucketFiles(folder: string, names: readonly string[]): Promise<Map<string, Buffer>> {
    const reader = sealedBucket();
    const files = new Map<string, Buffer>();
    try {
      for (const name of names) {
        const chunks: Buffer[] = [];
        for await (const c of await reader.get(`${folder}/${name}`)) chunks.push(c as Buffer);
        files.set(name, Buffer.concat(chunks));
      }
    } finally {
      reader.close();
    }
    return files;
  }

  test('a custom dump to disk and bucket: the same sealed bytes in both, no row in either; age opens it; restore needs the key, and either copy restores alone', async () => {
    const { id, dir, folder } = await run('custom');
    const local = tree(dir);
    assert.deepEqual([...local.keys()].filter((f) => f.endsWith('.age')).sort(), [
      'config.sql.age',
      'database.dump.age',
      'roles.sql.age',
    ]);
    assert.ok(!local.has('database.dump') && !local.has('roles.sql'), [...local.keys()].join(', '));
    const remote = await bucketFiles(folder, [...local.keys()]);
    for (const [file, bytes] of local) {
      assert.ok(remote.get(file)?.equals(bytes), `${file}: the bucket holds the same bytes`);
      assert.ok(!bytes.includes(SECRET), `${file} holds no row`);
    }

    // Debian's age (the reference implementation) opens it with alice's key: a dump pg_restore reads.
    const plain = execFileSync('age', ['-d', '-i', keys.alice.file, join(dir, 'database.dump.age')], {
      maxBuffer: 64 * 1024 ** 2,
    });
    assert.ok(plain.subarray(0, 5).equals(Buffer.from('PGDMP')));
    assert.ok(execFileSync(`${PG_BIN}/pg_restore`, ['-f', '-'], { input: plain }).includes(SECRET));

    // The catalogue records both checksums: the stored bytes' and the plaintext's.
    const described = parse((await cli(['describe', 'backup', id])).stdout) as {
      sha256: Record<string, string>;
      encryption: { age: { recipients: string[] }; plaintext: Record<string, { sha256: string }> };
    };
    assert.deepEqual(described.encryption.age.recipients, [keys.alice.recipient]);
    assert.equal(described.sha256['database.dump.age'], sha(local.get('database.dump.age') as Buffer));
    assert.equal(described.encryption.plaintext['database.dump.age']?.sha256, sha(plain));

    // verify: the stored bytes without a key; the plaintext with one; a key that does not fit is a failure.
    const blind = await cli([...allow(), 'verify', id]);
    assert.equal(blind.code, 0, blind.stdout + blind.stderr);
    assert.match(
      blind.stdout,
      /OK \(encrypted: its stored bytes match; its plaintext was not checked \(no --identity/,
    );
    const keyed = await cli([...allow(), '--identity', keys.alice.file, 'verify', id]);
    assert.equal(keyed.stdout, `${id} OK\n  copy at offsite OK (${local.size} files)\n`);
    const wrong = await cli([...allow(), '--identity', keys.bob.file, 'verify', id]);
    assert.equal(wrong.code, 1, wrong.stdout);
    assert.match(
      wrong.stdout,
      new RegExp(
        `^${id} UNDECRYPTABLE \\(encrypted: its stored bytes match; its plaintext was not checked: .*none of the 1 age identity given can decrypt it: it was encrypted for other recipients\\)`,
      ),
    );
    // The keys themselves in the variable, comments and all, as age-keygen wrote them: taken, never echoed.
    const whole = readFileSync(keys.alice.file, 'utf8');
    const inEnv = await cli([...allow(), 'verify', id], { PGBACKMAN_AGE_IDENTITY: whole });
    assert.match(inEnv.stdout, new RegExp(`^${id} OK\\n`), inEnv.stdout + inEnv.stderr);
    const typo = await cli(['verify', id], { PGBACKMAN_AGE_IDENTITY: 'not-a-file-nor-a-key' });
    assert.notEqual(typo.code, 0);
    assert.match(
      typo.stderr,
      /PGBACKMAN_AGE_IDENTITY: its value is neither a readable file nor age secret keys/,
    );
    assert.doesNotMatch(typo.stderr, /not-a-file-nor-a-key/);
    // A key file others may read is refused, as ssh refuses such a private key; nothing is decrypted.
    const shared = join(dirname(keys.alice.file), 'shared-key.txt');
    writeFileSync(shared, whole, { mode: 0o644 });
    const open = await cli([...allow(), '--identity', shared, 'verify', id]);
    assert.notEqual(open.code, 0);
    assert.match(
      open.stderr,
      /error\[UNSAFE\]: --identity .*shared-key\.txt: the file may be read by others \(mode 0644\); an age identity opens every dump sealed for it: chmod 600 it/,
    );
    assert.doesNotMatch(open.stderr + open.stdout, /AGE-SECRET-KEY/);
    // Keys in a bucket URL are refused, and not repeated.
    const inUrl = await cli([
      'restore',
      '--from',
      's3+http://KEY:hunter2zz@127.0.0.1:1/dumps/x/y',
      '--node',
      'n1',
    ]);
    assert.notEqual(inUrl.code, 0);
    assert.match(inUrl.stderr, /a bucket URL must not hold a user or password/);
    assert.doesNotMatch(inUrl.stderr + inUrl.stdout, /hunter2zz/);

    // restore: no key, or bob's, is refused before the target is asked; the database is never created.
    await drop('sealed_restored');
    const restore = ['restore', id, '--node', 'n1', '--database', 'sealed_restored'];
    const without = await cli(restore);
    assert.equal(without.code, 1);
    assert.match(
      without.stderr,
      new RegExp(
        `error\\[RESTORE_REFUSED\\]: backup ${id} is encrypted \\(age, for ${keys.alice.recipient}\\): give an identity that decrypts it with --identity FILE or PGBACKMAN_AGE_IDENTITY; nothing on the target was touched`,
      ),
    );
    const bobs = await cli(['--identity', keys.bob.file, ...restore]);
    assert.equal(bobs.code, 1);
    assert.match(
      bobs.stderr,
      /error\[RESTORE_REFUSED\]: .*it was encrypted for other recipients; nothing on the target was touched/,
    );
    assert.equal(await exists('sealed_restored'), 0);

    // With alice's key, in the environment as the keys themselves: every row back.
    const identity = readFileSync(keys.alice.file, 'utf8').match(/^AGE-SECRET-KEY-1\S+$/m)?.[0] as string;
    const restored = await cli(restore, { PGBACKMAN_AGE_IDENTITY: identity });
    assert.equal(restored.code, 0, restored.stderr);
    assert.deepEqual(await rowsOf('sealed_restored'), await rowsOf('sealed_source'));

    // The disk copy gone: the bucket's copy restores alone (fetched sealed, decrypted as it streams).
    await drop('sealed_restored');
    await rm(dir, { recursive: true, force: true });
    const fromBucket = await cli([...allow(), '--identity', keys.alice.file, ...restore]);
    assert.equal(fromBucket.code, 0, fromBucket.stderr);
    assert.match(fromBucket.stderr, /restoring from its copy at offsite/);
    assert.deepEqual(await rowsOf('sealed_restored'), await rowsOf('sealed_source'));
    await drop('sealed_restored');
  });

  test('a sealed dump changed on disk is refused before the target is touched, key or not', async () => {
    const { id, dir } = await run('custom');
    const file = join(dir, 'database.dump.age');
    const bytes = readFileSync(file);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 40) ^ 0x01, bytes.length - 40);
    writeFileSync(file, bytes);
    const r = await cli([
      '--identity',
      keys.alice.file,
      'restore',
      id,
      '--node',
      'n1',
      '--database',
      'sealed_restored',
    ]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /error\[RESTORE_REFUSED\]: the dump failed its check \(CORRUPT\): .*database\.dump\.age: sha256 /,
    );
    assert.equal(await exists('sealed_restored'), 0);
    // A sealed small file cut short: the re-hash names it, not the decryption.
    const other = await run('custom');
    writeFileSync(join(other.dir, 'config.sql.age'), 'short');
    const cut = await cli([
      '--identity',
      keys.alice.file,
      'restore',
      other.id,
      '--node',
      'n1',
      '--database',
      'sealed_restored',
    ]);
    assert.equal(cut.code, 1);
    assert.match(
      cut.stderr,
      /error\[RESTORE_REFUSED\]: the dump failed its check \(CORRUPT\): .*config\.sql\.age: sha256 /,
    );
    assert.equal(await exists('sealed_restored'), 0);
  });

  test('a plain dump is sealed too: verify reads its header through the key, psql restores it from stdin', async () => {
    const plain = await run('plain');
    for (const [file, bytes] of tree(plain.dir)) assert.ok(!bytes.includes(SECRET), `${file} holds no row`);
    assert.ok(tree(plain.dir).has('database.sql.age'));
    const v = await cli([...allow(), '--identity', keys.alice.file, 'verify', plain.id]);
    assert.match(v.stdout, new RegExp(`^${plain.id} OK\\n`), v.stdout + v.stderr);
    const restored = await cli([
      '--identity',
      keys.alice.file,
      'restore',
      plain.id,
      '--node',
      'n1',
      '--database',
      'sealed_restored',
    ]);
    assert.equal(restored.code, 0, restored.stderr);
    assert.deepEqual(await rowsOf('sealed_restored'), await rowsOf('sealed_source'));
    await drop('sealed_restored');
  });

  test('a restore test of an encrypted dump: VERIFIED with the key; without one VERIFY_FAILED, saying why', async () => {
    const { id } = await run('custom');
    const keyed = await cli(['--identity', keys.alice.file, 'verify', id, '--restore', '--node', 'n1']);
    assert.equal(keyed.code, 0, keyed.stdout + keyed.stderr);
    assert.match(keyed.stdout, new RegExp(`^${id} VERIFIED: `));
    const blind = await cli(['verify', id, '--restore', '--node', 'n1']);
    assert.equal(blind.code, 1);
    assert.match(
      blind.stdout,
      new RegExp(
        `^${id} VERIFY_FAILED: .*is encrypted \\(age, for ${keys.alice.recipient}\\): give an identity`,
      ),
    );
  });

  test("restore --from a folder in the bucket: with the catalogue (its server says how to reach it), and with none (--target, the SDK's own credentials)", async () => {
    const { folder, dir } = await run('custom');
    const url = `s3+http://${new URL(s3.endpoint).host}/dumps/sealed/${folder}`;
    const state = join(scratch, 'state');
    await drop('sealed_restored');
    const withCatalogue = await cli(
      [
        '--identity',
        keys.alice.file,
        'restore',
        '--from',
        url,
        '--node',
        'n1',
        '--database',
        'sealed_restored',
      ],
      { PGBACKMAN_STATE_DIR: state },
    );
    assert.equal(withCatalogue.code, 0, withCatalogue.stderr);
    assert.match(
      withCatalogue.stderr,
      new RegExp(`^Fetched ${url.replace(/[.+]/g, '\\$&')} into ${state}/fetch/from-`),
    );
    assert.deepEqual(await rowsOf('sealed_restored'), await rowsOf('sealed_source'));
    await drop('sealed_restored');

    const node = new URL(testServerUrl());
    const offline = await runCli(
      [
        '--catalogue',
        'postgres://postgres@127.0.0.1:1/nowhere',
        '--identity',
        keys.alice.file,
        'restore',
        '--from',
        url,
        '--target',
        `host=127.0.0.1 port=${node.port} user=postgres`,
        '--database',
        'sealed_restored',
      ],
      {
        env: {
          PGBACKMAN_STATE_DIR: state,
          AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
          AWS_REGION: 'eu-north-1',
        },
      },
    );
    assert.equal(offline.code, 0, offline.stderr);
    assert.deepEqual(await rowsOf('sealed_restored'), await rowsOf('sealed_source'));
    await drop('sealed_restored');
    // The fetched folders are removed; a folder that is not there is a clear error.
    assert.deepEqual(readdirSync(join(state, 'fetch')), []);
    const missing = await cli(
      [
        '--identity',
        keys.alice.file,
        'restore',
        '--from',
        `${url}x`,
        '--node',
        'n1',
        '--database',
        'sealed_restored',
      ],
      { PGBACKMAN_STATE_DIR: state },
    );
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /holds no backup\.json: not a dump folder pgbackman copied/);
    // A copy missing a file its backup.json lists: refused before anything is fetched.
    const bucketOf = sealedBucket();
    try {
      await bucketOf.delete(`${folder}/roles.sql.age`);
    } finally {
      bucketOf.close();
    }
    const incomplete = await cli(
      [
        '--identity',
        keys.alice.file,
        'restore',
        '--from',
        url,
        '--node',
        'n1',
        '--database',
        'sealed_restored',
      ],
      { PGBACKMAN_STATE_DIR: state },
    );
    assert.equal(incomplete.code, 1);
    assert.match(
      incomplete.stderr,
      /its backup\.json lists roles\.sql\.age, which the bucket does not hold \(a copy cut short, or changed\); nothing was fetched/,
    );
    assert.deepEqual(readdirSync(join(state, 'fetch')), []);
    // Put back, so the bucket holds complete copies for what follows.
    const back = sealedBucket();
    try {
      await back.put(`${folder}/roles.sql.age`, createReadStream(join(dir, 'roles.sql.age')));
    } finally {
      back.close();
    }
  });

  test('the catalogue lost as well as the disk: a new one, the manifests applied, catalogue import of the bucket brings every dump back, restorable from there with the key', async () => {
    const before = JSON.parse((await cli(['get', 'backups', '-o', 'json'])).stdout) as { id: string }[];
    const fresh = await createTestCatalogue('postgres', 'encrypted-dumps-rebuilt');
    try {
      const again = (args: string[]) =>
        runCli(['--catalogue', fresh.location, ...args], { env: { ...process.env, ...env() } });
      // Before the manifests: nothing says how to reach the bucket.
      const early = await again([
        'catalogue',
        'import',
        `s3+http://${new URL(s3.endpoint).host}/dumps/sealed`,
      ]);
      assert.equal(early.code, 1);
      assert.match(early.stdout, /no BackupServer in the catalogue lists a storage destination there/);
      assert.equal((await again(['apply', manifestDir, '--auto-approve'])).code, 0);
      await rm(join(scratch, 'root'), { recursive: true, force: true });
      const imported = await again([
        'catalogue',
        'import',
        `s3+http://${new URL(s3.endpoint).host}/dumps/sealed`,
      ]);
      assert.equal(imported.code, 0, imported.stdout + imported.stderr);
      assert.match(
        imported.stderr,
        new RegExp(`^${before.length} dump folder\\(s\\): ${before.length} imported, 0 already known`),
      );
      for (const { id } of before)
        assert.match(
          imported.stdout,
          new RegExp(`${id} imported: s3://dumps/sealed/.* \\(copy at offsite recorded\\)`),
        );
      // Each is encrypted as it was, with its copy recorded: restored from the bucket, decrypted with the key.
      const newest = before[0]?.id as string;
      const described = parse((await again(['describe', 'backup', newest])).stdout) as {
        encryption: { age: { recipients: string[] } };
        copies: { destination: string; status: string }[];
      };
      assert.deepEqual(described.encryption.age.recipients, [keys.alice.recipient]);
      assert.deepEqual(
        described.copies.map((c) => [c.destination, c.status]),
        [['offsite', 'COPIED']],
      );
      const restored = await again([
        ...allow(),
        '--identity',
        keys.alice.file,
        'restore',
        newest,
        '--node',
        'n1',
        '--database',
        'sealed_restored',
      ]);
      assert.equal(restored.code, 0, restored.stderr);
      assert.match(restored.stderr, /restoring from its copy at offsite/);
      assert.deepEqual(await rowsOf('sealed_restored'), await rowsOf('sealed_source'));
      await drop('sealed_restored');
      // Imported twice: nothing changes.
      const twice = await again([
        'catalogue',
        'import',
        `s3+http://${new URL(s3.endpoint).host}/dumps/sealed`,
      ]);
      assert.match(twice.stderr, new RegExp(`0 imported, ${before.length} already known`));
      // A backup.json put where its run would not be (claiming another place's definition): not imported.
      const bucketOf = sealedBucket();
      try {
        const keysThere = await bucketOf.list(1000);
        const real = keysThere.find((k) => k.endsWith('/backup.json')) as string;
        const chunks: Buffer[] = [];
        for await (const c of await bucketOf.get(real)) chunks.push(c as Buffer);
        await bucketOf.put(
          'n1/elsewhere/20260101T000000Z-FULL-custom-00000000/backup.json',
          Readable.from([Buffer.concat(chunks)]),
        );
        await rawPut(`sealed/n1/with space/x/backup.json`, Buffer.concat(chunks));
      } finally {
        bucketOf.close();
      }
      const planted = await again([
        'catalogue',
        'import',
        `s3+http://${new URL(s3.endpoint).host}/dumps/sealed`,
      ]);
      assert.equal(planted.code, 1);
      assert.match(
        planted.stdout,
        /unreadable: n1\/elsewhere\/20260101T000000Z-FULL-custom-00000000 at offsite: .*describes a run that would be in n1\/sealed_source\/.*, not in n1\/elsewhere\/.*: not a copy pgbackman made/,
      );
      assert.match(
        planted.stdout,
        /unreadable: n1\/with space\/x at offsite: "n1\/with space\/x\/backup\.json" is not a key pgbackman writes/,
      );
    } finally {
      await fresh.drop();
    }
  });
});
