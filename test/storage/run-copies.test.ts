import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { parse } from 'yaml';
import { acquireRunLock } from '../../src/backup/files/run-lock.ts';
import { withCatalogue } from '../../src/catalogue/open-catalogue.ts';
import { parseAllowedDestinations } from '../../src/storage/allowed-destinations.ts';
import { retryCopies } from '../../src/storage/retry-copies.ts';
import { s3Destination } from '../../src/storage/s3-destination.ts';
import { createTestCatalogue, type TestCatalogue } from '../support/catalogues.ts';
import { tree } from '../support/file-tree.ts';
import { localSetup } from '../support/fixtures.ts';
import { startHoldingProxy } from '../support/holding-proxy.ts';
import { assertNoStackTrace, runCli, writeTree } from '../support/run-cli.ts';
import { startTestS3, type TestS3 } from '../support/s3-server.ts';
import { createSourceDatabase, testServerUrl, withClient, withDatabase } from '../support/test-database.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('run with storage: the dump in the root directory, and a copy in every further destination', () => {
  let catalogue: TestCatalogue;
  let s3: TestS3;
  let scratch: string;
  const env = () => ({
    PGBACKMAN_SECRET_S3_ID: s3.credentials.accessKeyId,
    PGBACKMAN_SECRET_S3_KEY: s3.credentials.secretAccessKey,
  });
  const cli = async (args: string[], extraEnv: NodeJS.ProcessEnv = {}) => {
    const r = await runCli(['--catalogue', catalogue.location, ...args], { env: { ...env(), ...extraEnv } });
    assertNoStackTrace(r);
    return r;
  };
  /** Applies one server `local` (root `<scratch>/<name>/root`) with `storage` and a definition `d`, and returns its root. */
  const setup = async (name: string, storage: (root: string) => string) => {
    const root = join(scratch, name, 'root');
    const node = new URL(testServerUrl());
    const manifests = localSetup({
      root,
      host: '127.0.0.1',
      port: node.port,
      serverSpec: `storage: [${storage(root)}]`,
      definitions: { d: 'database: postgres, format: directory' },
    });
    const r = await cli(['apply', await writeTree({ 'm.yaml': manifests }), '--auto-approve']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    return root;
  };
  const credentials =
    '{env: {accessKeyId: PGBACKMAN_SECRET_S3_ID, secretAccessKey: PGBACKMAN_SECRET_S3_KEY}}';
  const bucket = (prefix: string, name = 'dumps') =>
    `{name: offsite, s3: {endpoint: "${s3.endpoint}", region: eu-north-1, bucket: ${name}, prefix: ${prefix}, forcePathStyle: true}, credentialsFrom: ${credentials}}`;

  before(async () => {
    catalogue = await createTestCatalogue('postgres', 'run-copies');
    s3 = await startTestS3(['dumps']);
    scratch = await mkdtemp(join(tmpdir(), 'pgbackman-copies-'));
  });
  after(async () => {
    await catalogue?.drop();
    await s3?.stop();
    await rm(scratch, { recursive: true, force: true });
  });

  test('a second disk and a bucket the operator allows: both hold every file, byte for byte, recorded per destination', async () => {
    const second = join(scratch, 'site-b');
    const root = await setup(
      'both',
      (r) =>
        `{name: disk, local: {path: "${r}"}}, {name: second, local: {path: "${second}"}}, ${bucket('site-a/')}`,
    );
    const r = await cli([
      '--allow-destination',
      second,
      '--allow-destination',
      `s3+http://${new URL(s3.endpoint).host}/dumps/site-a`,
      'run',
      'd',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const [, id, dir] = /^Backup ([0-9a-f-]{36}) SUCCEEDED: .*\n {2}(.+)\n/.exec(r.stdout) ?? [];
    assert.ok(id && dir, r.stdout);
    const folder = relative(root, dir);
    const primary = tree(dir);
    assert.ok(
      primary.has('backup.json') && primary.has(join('database.dir', 'toc.dat')),
      [...primary.keys()].join(', '),
    );
    assert.match(
      r.stdout,
      new RegExp(`\\n {2}copied to second: ${join(second, folder)} \\(${primary.size} files, `),
    );
    assert.match(
      r.stdout,
      new RegExp(
        `\\n {2}copied to offsite: s3://dumps/site-a/${folder}/ at ${s3.endpoint} \\(${primary.size} files, `,
      ),
    );

    // The second disk: the same files, the same bytes.
    const copy = tree(join(second, folder));
    assert.deepEqual([...copy.keys()].sort(), [...primary.keys()].sort());
    for (const [file, bytes] of primary) assert.equal(sha(copy.get(file) as Buffer), sha(bytes), file);

    // The bucket, read back with its own client: the same bytes under the prefix.
    const reader = s3Destination(
      'check',
      {
        endpoint: s3.endpoint,
        region: 'eu-north-1',
        bucket: 'dumps',
        prefix: 'site-a/',
        forcePathStyle: true,
      },
      { credentials: s3.credentials },
    );
    try {
      for (const [file, bytes] of primary) {
        const chunks: Buffer[] = [];
        for await (const c of await reader.get(`${folder}/${file}`)) chunks.push(c as Buffer);
        assert.equal(sha(Buffer.concat(chunks)), sha(bytes), file);
      }
    } finally {
      reader.close();
    }

    // describe backup: each copy, its files' sizes and checksums, the bucket's ETags.
    const described = parse((await cli(['describe', 'backup', id])).stdout) as {
      copies: {
        destination: string;
        status: string;
        kind: string;
        bytes: number;
        files: Record<string, { sha256: string; etag: string | null }>;
      }[];
    };
    assert.deepEqual(
      described.copies.map((c) => [c.destination, c.kind, c.status]),
      [
        ['offsite', 's3', 'COPIED'],
        ['second', 'local', 'COPIED'],
      ],
    );
    for (const c of described.copies)
      for (const [file, bytes] of primary)
        assert.equal(c.files[file]?.sha256, sha(bytes), `${c.destination} ${file}`);
    assert.ok(described.copies[0]?.files['backup.json']?.etag, 'the bucket’s ETag is recorded');

    // get backups -o json carries them too.
    const listed = JSON.parse((await cli(['get', 'backups', '-o', 'json'])).stdout) as {
      id: string;
      copies: { destination: string; status: string }[];
    }[];
    assert.deepEqual(
      listed.find((b) => b.id === id)?.copies.map((c) => [c.destination, c.status]),
      [
        ['offsite', 'COPIED'],
        ['second', 'COPIED'],
      ],
    );

    // verify asks each copy too: every file there, of its size (and ETag); --deep reads them back.
    const allow = [
      '--allow-destination',
      second,
      '--allow-destination',
      `s3+http://${new URL(s3.endpoint).host}/dumps/site-a`,
    ];
    const plain = await cli([...allow, 'verify', id]);
    assert.equal(plain.code, 0, plain.stdout + plain.stderr);
    assert.equal(
      plain.stdout,
      `${id} OK\n  copy at offsite OK (${primary.size} files)\n  copy at second OK (${primary.size} files)\n`,
    );
    // A file changed in place on the second disk, same size: only --deep can tell.
    const toc = join(second, folder, 'database.dir', 'toc.dat');
    const changed = readFileSync(toc);
    changed.writeUInt8(changed.readUInt8(100) ^ 0xff, 100);
    writeFileSync(toc, changed);
    assert.equal((await cli([...allow, 'verify', id])).code, 0);
    const deep = await cli([...allow, 'verify', '--deep', id]);
    assert.equal(deep.code, 1);
    assert.match(
      deep.stdout,
      /\n {2}copy at second CORRUPT: database\.dir\/toc\.dat at .*: sha256 [0-9a-f]{64} differs from the [0-9a-f]{64} sent\n/,
    );
    // The copy is recorded lost and the dump SUCCEEDED_PARTIAL: the copy pass makes it again, from the root.
    const lost = parse((await cli(['describe', 'backup', id])).stdout) as { status: string; error: string };
    assert.equal(lost.status, 'SUCCEEDED_PARTIAL');
    assert.match(lost.error, /^not copied to second: verify: database\.dir\/toc\.dat at /);
    const retry = () =>
      withCatalogue(catalogue.location, 'test', (db) =>
        retryCopies(db, 'local', {
          allowed: parseAllowedDestinations(allow.filter((_, i) => i % 2 === 1)),
          env: { ...process.env, ...env() },
          secretsDir: scratch,
        }),
      );
    // While a run of the definition is under way (its run lock held by a live process), the pass leaves its
    // dumps alone: that run may be copying and releasing the very folder (an agent crashed on it once).
    const running = acquireRunLock(root, 'BackupDefinition-d');
    try {
      assert.deepEqual(await retry(), { runs: 1, completed: 0, tried: 0, failed: 0, removed: 0 });
    } finally {
      running();
    }
    const pass = await retry();
    assert.deepEqual(pass, { runs: 1, completed: 1, tried: 1, failed: 0, removed: 0 });
    assert.equal(sha(readFileSync(toc)), sha(primary.get(join('database.dir', 'toc.dat')) as Buffer));
    const healed = await cli([...allow, 'verify', '--deep', id]);
    assert.equal(healed.code, 0, healed.stdout);
  });

  test('a directory-format dump streams each file as pg_dump writes it: the tables are in the bucket before its toc.dat, and the copy is whole', async () => {
    await createSourceDatabase(
      'copies_tree',
      'create table a as select g, md5(g::text) as v from generate_series(1, 20000) g; create table b as select g from generate_series(1, 20000) g',
    );
    const proxy = await startHoldingProxy(s3.endpoint);
    try {
      const root = join(scratch, 'tree', 'root');
      const node = new URL(testServerUrl());
      const manifests = localSetup({
        root,
        host: '127.0.0.1',
        port: node.port,
        serverSpec: `storage: [{name: disk, local: {path: "${root}"}}, {name: offsite, s3: {endpoint: "${proxy.endpoint}", region: eu-north-1, bucket: dumps, prefix: tree/, forcePathStyle: true}, credentialsFrom: ${credentials}}]`,
        definitions: { t: 'database: copies_tree, format: directory' },
      });
      const applied = await cli(['apply', await writeTree({ 'm.yaml': manifests }), '--auto-approve']);
      assert.equal(applied.code, 0, applied.stderr);
      // pg_dump writes toc.dat last: held, so the run waits on it while the tables' files are looked for.
      proxy.hold((path) => path.endsWith('/toc.dat'));
      const running = runCli(
        [
          '--catalogue',
          catalogue.location,
          '--allow-destination',
          `s3+http://${new URL(proxy.endpoint).host}/dumps/tree`,
          'run',
          't',
        ],
        { env: env() },
      );
      await proxy.held();
      const reader = s3Destination(
        'check',
        {
          bucket: 'dumps',
          region: 'eu-north-1',
          endpoint: s3.endpoint,
          forcePathStyle: true,
          prefix: 'tree/',
        },
        { credentials: s3.credentials },
      );
      try {
        let tables: string[] = [];
        for (let i = 0; i < 100 && tables.length < 2; i++) {
          tables = (await reader.list(1000)).filter((k) => /\/database\.dir\/\d+\.dat\.gz$/.test(k));
          if (tables.length < 2) await new Promise((r) => setTimeout(r, 100));
        }
        assert.equal(tables.length, 2, `the tables' files arrived while the dump ran: ${tables.join(' ')}`);
        // The dump is not in place yet: only its .partial folder is under the root.
        const folders = readdirSync(join(root, 'n1', 'copies_tree'));
        assert.ok(folders.length === 1 && folders[0]?.endsWith('.partial'), folders.join(' '));
        proxy.release();
        const r = await running;
        assert.equal(r.code, 0, r.stderr);
        const [, dir] = /^Backup \S+ SUCCEEDED: .*\n {2}(.+)\n/.exec(r.stdout) ?? [];
        assert.ok(dir, r.stdout);
        const local = tree(dir);
        const folder = relative(root, dir);
        const stored = (await reader.list(1000)).filter((k) => k.startsWith(`${folder}/`));
        assert.deepEqual(stored.map((k) => k.slice(folder.length + 1)).sort(), [...local.keys()].sort());
        for (const [file, bytes] of local) {
          const chunks: Buffer[] = [];
          for await (const c of await reader.get(`${folder}/${file}`)) chunks.push(c as Buffer);
          assert.equal(sha(Buffer.concat(chunks)), sha(bytes), file);
        }
      } finally {
        reader.close();
      }
    } finally {
      await proxy.stop();
    }
  });

  test('a destination the operator has not allowed is sent nothing; the dump stays SUCCEEDED in the root', async () => {
    const root = await setup(
      'unallowed',
      (r) => `{name: disk, local: {path: "${r}"}}, ${bucket('elsewhere/')}`,
    );
    // Allowed: another prefix of the same bucket, which does not cover this one.
    const r = await cli([
      '--allow-destination',
      `s3+http://${new URL(s3.endpoint).host}/dumps/site-a`,
      'run',
      'd',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const id = /^Backup (\S+) SUCCEEDED_PARTIAL: /.exec(r.stdout)?.[1];
    assert.ok(id, r.stdout);
    assert.match(
      r.stderr,
      /warning: the dump is in the root directory, but not copied to offsite: destination offsite/,
    );
    // The catalogue says so too, and a restore or retention still counts it as a good dump.
    const described = parse((await cli(['describe', 'backup', id])).stdout) as {
      status: string;
      error: string;
    };
    assert.equal(described.status, 'SUCCEEDED_PARTIAL');
    assert.match(
      described.error,
      /^not copied to offsite: destination offsite .* is not one this agent's operator allows/,
    );
    const listed = JSON.parse(
      (await cli(['get', 'backups', '--status', 'SUCCEEDED_PARTIAL', '-o', 'json'])).stdout,
    ) as { id: string }[];
    assert.ok(listed.some((b) => b.id === id));
    const verified = await cli(['verify', id]);
    assert.deepEqual([verified.code, verified.stdout], [0, `${id} OK\n`], verified.stderr);
    assert.match(
      r.stdout,
      /\n {2}NOT copied to offsite: destination offsite \(s3:\/\/dumps\/elsewhere\/.*\) is not one this agent's operator allows: start pgbackman with --allow-destination naming it \(or set PGBACKMAN_ALLOWED_DESTINATIONS\); nothing was sent\n/,
    );
    const reader = s3Destination(
      'check',
      {
        endpoint: s3.endpoint,
        region: 'eu-north-1',
        bucket: 'dumps',
        prefix: 'elsewhere/',
        forcePathStyle: true,
      },
      { credentials: s3.credentials },
    );
    try {
      const [folder] = readdirSync(join(root, 'n1', 'postgres'));
      assert.equal(await reader.head(`n1/postgres/${folder}/backup.json`), null);
    } finally {
      reader.close();
    }
  });

  test('a bucket that does not exist, wrong keys, a key variable that is not set: each copy FAILED and says why, no secret shown', async () => {
    await setup('refused', (r) => `{name: disk, local: {path: "${r}"}}, ${bucket('x/', 'no-such-bucket')}`);
    const allow = ['--allow-destination', `s3+http://${new URL(s3.endpoint).host}/no-such-bucket`];
    const missing = await cli([...allow, 'run', 'd']);
    assert.match(
      missing.stdout,
      /\n {2}NOT copied to offsite: offsite \(s3:\/\/no-such-bucket\/x\/ at http:\/\/127\.0\.0\.1:\d+\): could not upload .*: the bucket does not exist/,
    );

    await setup('refused', (r) => `{name: disk, local: {path: "${r}"}}, ${bucket('keys/')}`);
    allow.push('--allow-destination', `s3+http://${new URL(s3.endpoint).host}/dumps/keys`);
    const wrong = await cli([...allow, 'run', 'd'], {
      PGBACKMAN_SECRET_S3_ID: 'AKIAWRONG',
      PGBACKMAN_SECRET_S3_KEY: 'wrong-secret-value-77',
    });
    assert.match(
      wrong.stdout,
      /NOT copied to offsite: .*the credentials were refused or lack the permission/,
    );
    assert.doesNotMatch(wrong.stdout + wrong.stderr, /wrong-secret-value-77/);

    const unset = await cli([...allow, 'run', 'd'], { PGBACKMAN_SECRET_S3_ID: '' });
    assert.match(
      unset.stdout,
      /NOT copied to offsite: destination offsite's credential variable PGBACKMAN_SECRET_S3_ID is not set in this process/,
    );
    for (const r of [missing, wrong, unset]) assert.equal(r.code, 0, r.stderr);
  });

  test('a credentials file outside the secrets directory is refused, and never read', async () => {
    const stolen = join(scratch, 'not-secrets', 's3.json');
    mkdirSync(join(scratch, 'not-secrets'), { recursive: true });
    writeFileSync(stolen, JSON.stringify({ accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }), {
      mode: 0o600,
    });
    const secrets = join(scratch, 'secrets');
    mkdirSync(secrets, { recursive: true, mode: 0o700 });
    /** A dump of the server whose offsite bucket's key comes from `file`. */
    const runWithKeyFile = async (file: string) => {
      await setup(
        'file',
        (r) =>
          `{name: disk, local: {path: "${r}"}}, {name: offsite, s3: {endpoint: "${s3.endpoint}", region: eu-north-1, bucket: dumps, prefix: file/, forcePathStyle: true}, credentialsFrom: {file: "${file}"}}`,
      );
      const allow = `s3+http://${new URL(s3.endpoint).host}/dumps`;
      return cli(['--secrets-dir', secrets, '--allow-destination', allow, 'run', 'd']);
    };
    const r = await runWithKeyFile(stolen);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /NOT copied to offsite: refusing destination offsite's credentials file .*s3\.json: it is not inside the secrets directory/,
    );

    // The same file inside the secrets directory: read, and the copy is made.
    const inside = join(secrets, 's3.json');
    writeFileSync(inside, readFileSync(stolen), { mode: 0o600 });
    const ok = await runWithKeyFile(inside);
    assert.match(ok.stdout, /\n {2}copied to offsite: s3:\/\/dumps\/file\//, ok.stdout + ok.stderr);
  });

  test('a copy that failed is made later from the root directory, and the dump is SUCCEEDED again', async () => {
    // A catalogue of its own: the other tests' partial dumps would be retried too.
    const shared = catalogue;
    catalogue = await createTestCatalogue('postgres', 'run-copies-retry');
    try {
      await retriedLater();
    } finally {
      await catalogue.drop();
      catalogue = shared;
    }
  });

  test('retention deletes a dump’s copies with it; one it cannot reach then is removed by a later pass', async () => {
    const shared = catalogue;
    catalogue = await createTestCatalogue('postgres', 'run-copies-retention');
    try {
      await deletedEverywhere();
    } finally {
      await catalogue.drop();
      catalogue = shared;
    }
  });

  async function deletedEverywhere(): Promise<void> {
    const second = join(scratch, 'kept-b');
    const root = join(scratch, 'kept', 'root');
    const node = new URL(testServerUrl());
    const manifests = localSetup({
      root,
      host: '127.0.0.1',
      port: node.port,
      serverSpec: `storage: [{name: disk, local: {path: "${root}"}}, {name: second, local: {path: "${second}"}}, ${bucket('kept/')}]`,
      definitions: { d: 'database: postgres, retention: {keep: {last: 1}}' },
    });
    assert.equal((await cli(['apply', await writeTree({ 'm.yaml': manifests }), '--auto-approve'])).code, 0);
    const host = new URL(s3.endpoint).host;
    const allowBoth = ['--allow-destination', second, '--allow-destination', `s3+http://${host}/dumps/kept`];
    const ids: string[] = [];
    for (const _ of [1, 2, 3]) {
      const r = await cli([...allowBoth, 'run', 'd']);
      const id = /^Backup (\S+) SUCCEEDED: /.exec(r.stdout)?.[1];
      assert.ok(id, r.stdout + r.stderr);
      ids.push(id);
    }
    const reader = s3Destination(
      'check',
      { endpoint: s3.endpoint, region: 'eu-north-1', bucket: 'dumps', prefix: 'kept/', forcePathStyle: true },
      { credentials: s3.credentials },
    );
    const folderOf = (id: string) =>
      `n1/postgres/${readdirSync(join(second, 'n1', 'postgres')).find((f) => f.endsWith(id.slice(0, 8)))}`;
    const [first, middle] = ids as [string, string];
    const firstFolder = folderOf(first);
    const middleFolder = folderOf(middle);
    try {
      // Keeping the newest one: the first is deleted with both its copies.
      // The bucket is not allowed this time: the second disk's copy goes, the bucket's stays, with a warning.
      const partly = await cli(['--allow-destination', second, 'retention', 'apply', '--auto-approve']);
      assert.equal(partly.code, 0, partly.stderr);
      assert.match(partly.stdout, new RegExp(`deleted ${first} `));
      assert.match(partly.stdout, new RegExp(`deleted ${middle} `));
      assert.match(
        partly.stderr,
        new RegExp(
          `warning: deleted ${first}, but not its copy at offsite: destination offsite is not one this agent's operator allows`,
        ),
      );
      for (const folder of [firstFolder, middleFolder]) {
        assert.equal(existsSync(join(second, folder)), false, `${folder} left on the second disk`);
        assert.ok(await reader.head(`${folder}/backup.json`), `${folder} still in the bucket`);
      }
      // A later pass, with the bucket allowed: the leftovers go, the kept dump's copy stays.
      const pass = await withCatalogue(catalogue.location, 'test', (db) =>
        retryCopies(db, 'local', {
          allowed: parseAllowedDestinations(allowBoth.filter((_, i) => i % 2 === 1)),
          env: { ...process.env, ...env() },
          secretsDir: scratch,
        }),
      );
      assert.deepEqual(pass, { runs: 0, completed: 0, tried: 0, failed: 0, removed: 2 });
      for (const folder of [firstFolder, middleFolder])
        assert.equal(await reader.head(`${folder}/backup.json`), null, folder);
      assert.ok(await reader.head(`${folderOf(ids[2] as string)}/backup.json`), 'the kept dump’s copy');
      const described = parse((await cli(['describe', 'backup', first])).stdout) as {
        copies: { destination: string; status: string }[];
      };
      assert.deepEqual(
        described.copies.map((c) => [c.destination, c.status]),
        [
          ['offsite', 'DELETED'],
          ['second', 'DELETED'],
        ],
      );
    } finally {
      reader.close();
    }
  }

  test('a dump whose folder is gone from the root is restored from its copy, checked; without a reachable copy nothing is touched', async () => {
    await createSourceDatabase(
      'copies_source',
      'create table orders as select g as id, md5(g::text) as v from generate_series(1, 2500) g',
    );
    const root = join(scratch, 'restore', 'root');
    const node = new URL(testServerUrl());
    const manifests = localSetup({
      root,
      host: '127.0.0.1',
      port: node.port,
      serverSpec: `storage: [{name: disk, local: {path: "${root}"}}, ${bucket('restore/')}]`,
      definitions: { src: 'database: copies_source' },
    });
    assert.equal((await cli(['apply', await writeTree({ 'm.yaml': manifests }), '--auto-approve'])).code, 0);
    const allow = ['--allow-destination', `s3+http://${new URL(s3.endpoint).host}/dumps/restore`];
    const r = await cli([...allow, 'run', 'src']);
    const [, id, dir] = /^Backup (\S+) SUCCEEDED: .*\n {2}(.+)\n/.exec(r.stdout) ?? [];
    assert.ok(id && dir, r.stdout + r.stderr);
    await rm(dir, { recursive: true, force: true });
    await withClient(testServerUrl(), (c) => c.query('drop database if exists copies_restored with (force)'));

    // Not allowed to reach the bucket: refused before anything on the target, which is not created.
    const refused = await cli(['restore', id, '--node', 'n1', '--database', 'copies_restored']);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /error\[RESTORE_REFUSED\]: the dump's folder .* is gone from the root directory, and no copy could be fetched: offsite: not allowed \(--allow-destination\); nothing on the target was touched/,
    );
    const exists = () =>
      withClient(
        testServerUrl(),
        async (c) => (await c.query("select 1 from pg_database where datname = 'copies_restored'")).rowCount,
      );
    assert.equal(await exists(), 0);

    const restored = await cli([...allow, 'restore', id, '--node', 'n1', '--database', 'copies_restored']);
    assert.equal(restored.code, 0, restored.stderr);
    assert.match(
      restored.stderr,
      /The dump's folder is gone from the root directory: restoring from its copy at offsite \(s3:\/\/dumps\/restore\//,
    );
    assert.match(restored.stdout, /^Restore \S+ SUCCEEDED: /);
    const rows = await withClient(
      withDatabase(testServerUrl(), 'copies_restored'),
      async (c) =>
        (await c.query("select count(*)::int as n, md5(string_agg(v, ',' order by id)) as sum from orders"))
          .rows[0],
    );
    const source = await withClient(
      withDatabase(testServerUrl(), 'copies_source'),
      async (c) =>
        (await c.query("select count(*)::int as n, md5(string_agg(v, ',' order by id)) as sum from orders"))
          .rows[0],
    );
    assert.deepEqual(rows, source);
    // The restore test reads the copy the same way.
    const tested = await cli([...allow, 'verify', id, '--restore', '--node', 'n1']);
    assert.equal(tested.code, 0, tested.stdout + tested.stderr);
    assert.match(tested.stdout, new RegExp(`^${id} VERIFIED: `));
    // The fetched folders are gone afterwards.
    assert.deepEqual(readdirSync(join(root, '.fetch')), []);
    await withClient(testServerUrl(), (c) => c.query('drop database if exists copies_restored with (force)'));
  });

  async function retriedLater(): Promise<void> {
    const root = await setup(
      'later',
      (r) => `{name: disk, local: {path: "${r}"}}, ${bucket('later/', 'late-bucket')}`,
    );
    const allowed = parseAllowedDestinations([`s3+http://${new URL(s3.endpoint).host}/late-bucket`]);
    const r = await cli([
      '--allow-destination',
      `s3+http://${new URL(s3.endpoint).host}/late-bucket`,
      'run',
      'd',
    ]);
    const id = /^Backup (\S+) SUCCEEDED_PARTIAL: /.exec(r.stdout)?.[1] as string;
    assert.ok(id, r.stdout);
    const retry = () =>
      withCatalogue(catalogue.location, 'test', (db) =>
        retryCopies(db, 'local', { allowed, env: { ...process.env, ...env() }, secretsDir: scratch }),
      );
    const second = await cli([
      '--allow-destination',
      `s3+http://${new URL(s3.endpoint).host}/late-bucket`,
      'run',
      'd',
    ]);
    assert.match(second.stdout, /^Backup \S+ SUCCEEDED_PARTIAL: /);
    // Still no bucket: one try in the pass (a destination that fails is not tried for the other dump), still partial.
    assert.deepEqual(await retry(), { runs: 2, completed: 0, tried: 1, failed: 1, removed: 0 });
    // The bucket appears (the store was down, or someone fixed its name): the next pass makes the copy.
    const admin = new S3Client({
      endpoint: s3.endpoint,
      region: 'eu-north-1',
      forcePathStyle: true,
      credentials: s3.credentials,
    });
    await admin.send(new CreateBucketCommand({ Bucket: 'late-bucket' }));
    admin.destroy();
    assert.deepEqual(await retry(), { runs: 2, completed: 2, tried: 2, failed: 0, removed: 0 });
    const described = parse((await cli(['describe', 'backup', id])).stdout) as {
      status: string;
      error: string | null;
      copies: { destination: string; status: string; files: Record<string, { sha256: string }> }[];
    };
    assert.deepEqual([described.status, described.error], ['SUCCEEDED', null]);
    assert.deepEqual(
      described.copies.map((c) => [c.destination, c.status]),
      [['offsite', 'COPIED']],
    );
    const folder = readdirSync(join(root, 'n1', 'postgres')).find((f) => f.endsWith(id.slice(0, 8)));
    const primary = tree(join(root, 'n1', 'postgres', folder as string));
    for (const [file, bytes] of primary)
      assert.equal(described.copies[0]?.files[file]?.sha256, sha(bytes), file);
    // Nothing left to do: a pass finds no partial dump.
    assert.deepEqual(await retry(), { runs: 0, completed: 0, tried: 0, failed: 0, removed: 0 });

    // A process killed between a dump and its copies leaves it SUCCEEDED_PARTIAL ('not tried yet') with no
    // copy recorded: the pass copies it to every listed destination all the same.
    await withClient(catalogue.location, async (c) => {
      await c.query('delete from pgbackman.dump_copies where run_id = $1::uuid', [id]);
      await c.query(
        "update pgbackman.backup_runs set status = 'SUCCEEDED_PARTIAL', error = 'not copied to offsite: not tried yet' where id = $1::uuid",
        [id],
      );
    });
    assert.deepEqual(await retry(), { runs: 1, completed: 1, tried: 1, failed: 0, removed: 0 });
    const after = parse((await cli(['describe', 'backup', id])).stdout) as {
      status: string;
      copies: { status: string }[];
    };
    assert.deepEqual([after.status, after.copies.map((c) => c.status)], ['SUCCEEDED', ['COPIED']]);
  }

  test('a definition with its own storage list: its dumps go where it says, verify finds them there; the server’s other definitions keep the server’s', async () => {
    const root = join(scratch, 'own', 'root');
    const own = join(scratch, 'own', 'elsewhere');
    const node = new URL(testServerUrl());
    const manifests = localSetup({
      root,
      host: '127.0.0.1',
      port: node.port,
      definitions: {
        plain: 'database: postgres, format: plain',
        special: `database: postgres, format: plain, storage: [{name: disk, local: {path: "${root}"}}, {name: elsewhere, local: {path: "${own}"}}]`,
      },
    });
    const dir = await writeTree({ 'm.yaml': manifests });
    assert.equal((await cli(['apply', dir, '--auto-approve'])).code, 0);
    const special = await cli(['--allow-destination', own, 'run', 'special']);
    assert.equal(special.code, 0, special.stderr);
    const [, id, folder] = /^Backup (\S+) SUCCEEDED: .*\n {2}(.+)\n/.exec(special.stdout) ?? [];
    assert.ok(id && folder, special.stdout);
    assert.match(
      special.stdout,
      new RegExp(`\\n {2}copied to elsewhere: ${join(own, relative(root, folder))} `),
    );
    assert.ok(existsSync(join(own, relative(root, folder), 'database.sql')));
    const verified = await cli(['--allow-destination', own, 'verify', id]);
    assert.equal(verified.stdout, `${id} OK\n  copy at elsewhere OK (6 files)\n`);
    const plain = await cli(['--allow-destination', own, 'run', 'plain']);
    assert.equal(plain.code, 0, plain.stderr);
    assert.doesNotMatch(plain.stdout, /copied to/);

    // Its list follows the server's rules, checked where it is written.
    const bad = await writeTree({
      'm.yaml': localSetup({
        root,
        host: '127.0.0.1',
        port: node.port,
        definitions: { wrong: `database: postgres, storage: [{name: elsewhere, local: {path: "${own}"}}]` },
      }),
    });
    const refused = await runCli(['validate', bad]);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stdout + refused.stderr,
      /m\.yaml:\d+:\d+: error: BackupDefinition\/wrong: \/spec\/storage\/0\/local\/path: the first destination is where dumps are written: a local one must be the rootDirectory/,
    );
  });

  test('the copy pass removes what a copy killed mid-way left at a local destination, once it is an hour old, and nothing else', async () => {
    const second = join(scratch, 'debris-second');
    await setup(
      'debris',
      (r) => `{name: disk, local: {path: "${r}"}}, {name: second, local: {path: "${second}"}}`,
    );
    const r = await cli(['--allow-destination', second, 'run', 'd']);
    assert.equal(r.code, 0, r.stderr);
    const [, dir] = /\n {2}copied to second: (.+) \(/.exec(r.stdout) ?? [];
    assert.ok(dir, r.stdout);
    // As a SIGKILLed write leaves them: its temporary name, beside the files that arrived.
    const stale = join(dir, '.0123456789ab.partial');
    const fresh = join(dir, '.ba9876543210.partial');
    writeFileSync(stale, 'half a file');
    writeFileSync(fresh, 'being written');
    const hourAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
    utimesSync(stale, hourAgo, hourAgo);
    const before = tree(dir);
    const pass = await withCatalogue(catalogue.location, 'test', (db) =>
      retryCopies(db, 'local', {
        allowed: parseAllowedDestinations([second]),
        env: process.env,
        secretsDir: scratch,
      }),
    );
    assert.equal(pass.debris, 1);
    const after = tree(dir);
    assert.ok(!after.has('.0123456789ab.partial') && after.has('.ba9876543210.partial'));
    for (const [file, bytes] of before)
      if (file !== '.0123456789ab.partial') assert.ok(after.get(file)?.equals(bytes), file);
  });
});
