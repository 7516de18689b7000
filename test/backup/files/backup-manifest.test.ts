import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  BACKUP_MANIFEST,
  type BackupManifest,
  backupManifest,
  backupManifestText,
  isPlainName,
  type RunFacts,
  readBackupManifest,
  writeBackupManifest,
} from '../../../src/backup/files/backup-manifest.ts';

const SHA = (c: string) => c.repeat(64);
/** Changes a parsed backup.json in place, at any depth, as a hand-edited or hostile file would be. */
// biome-ignore lint/suspicious/noExplicitAny: parsed JSON, edited freely to break it
type Edit = (m: Record<string, any>) => void;

/** A custom-format FULL dump of a definition, with its roles and configuration. */
const base: RunFacts = {
  runId: '0a1b2c3d-0000-4000-8000-000000000000',
  definition: 'shop-nightly',
  snapshot: null,
  server: 'backup01',
  node: 'pg01',
  database: 'shop',
  settings: { code: 'FULL', format: 'custom', compression: undefined },
  pgDumpVersion: '15.18 (Debian 15.18-0+deb12u1)',
  serverVersion: '15.18',
  systemIdentifier: '7714754197630355640',
  tables: { 'public.orders': 1000 },
  databaseBytes: 7_654_321,
  startedAt: new Date('2026-12-01T02:30:00.123Z'),
  finishedAt: new Date('2026-12-01T02:31:04.5Z'),
  revision: 'a'.repeat(40),
  dump: {
    fileName: 'database.dump',
    written: {
      'database.dump': { bytes: 1000, sha256: SHA('1') },
      'roles.sql': { bytes: 20, sha256: SHA('2') },
      'config.sql': { bytes: 30, sha256: SHA('3') },
    },
    roles: true,
    config: true,
  },
  retention: { period: '14d', redundancy: 3, timezone: 'Europe/Oslo' },
};

describe('backup.json: the builder', () => {
  test('a custom-format FULL dump: every field, in camelCase, times in ISO UTC', () => {
    assert.deepEqual(backupManifest(base), {
      formatVersion: 1,
      runId: base.runId,
      definition: 'shop-nightly',
      snapshot: null,
      server: 'backup01',
      node: 'pg01',
      database: 'shop',
      code: 'FULL',
      format: 'custom',
      pgDumpVersion: '15.18 (Debian 15.18-0+deb12u1)',
      serverVersion: '15.18',
      systemIdentifier: '7714754197630355640',
      tables: { 'public.orders': 1000 },
      databaseBytes: 7_654_321,
      startedAt: '2026-12-01T02:30:00.123Z',
      finishedAt: '2026-12-01T02:31:04.500Z',
      revision: 'a'.repeat(40),
      files: {
        dump: 'database.dump',
        roles: 'roles.sql',
        config: 'config.sql',
        written: base.dump.written,
      },
      retention: { period: '14d', redundancy: 3, timezone: 'Europe/Oslo' },
    } satisfies BackupManifest);
  });

  const cases: {
    name: string;
    facts: Partial<RunFacts>;
    expect: Partial<BackupManifest> & { absent?: string[] };
  }[] = [
    {
      name: 'compression set: recorded as given',
      facts: { settings: { code: 'FULL', format: 'custom', compression: 'zstd:3' } },
      expect: { compression: 'zstd:3' },
    },
    {
      name: 'a compression level 0: recorded, not dropped as falsy',
      facts: { settings: { code: 'DATA', format: 'directory', compression: 0 } },
      expect: { compression: 0, code: 'DATA', format: 'directory' },
    },
    {
      name: 'compression with the tar format: pg_dump is not given it, so not recorded',
      facts: { settings: { code: 'FULL', format: 'tar', compression: 9 } },
      expect: { format: 'tar', absent: ['compression'] },
    },
    {
      name: 'CLUSTER: no database, plain format, no compression, no database size',
      facts: {
        settings: { code: 'CLUSTER', format: 'custom', compression: 6 },
        database: 'ignored',
        databaseBytes: 123,
        dump: {
          fileName: 'cluster.sql',
          written: { 'cluster.sql': { bytes: 5, sha256: SHA('c') } },
          roles: false,
          config: false,
        },
      },
      expect: {
        code: 'CLUSTER',
        format: 'plain',
        database: null,
        databaseBytes: null,
        files: {
          dump: 'cluster.sql',
          roles: null,
          config: null,
          written: { 'cluster.sql': { bytes: 5, sha256: SHA('c') } },
        },
        absent: ['compression'],
      },
    },
    {
      name: 'a directory-format dump: its directory with each inner file',
      facts: {
        settings: { code: 'SCHEMA', format: 'directory', compression: undefined },
        dump: {
          fileName: 'database.dir',
          written: {
            'database.dir': {
              'toc.dat': { bytes: 10, sha256: SHA('a') },
              '3001.dat.gz': { bytes: 11, sha256: SHA('b') },
            },
          },
          roles: false,
          config: true,
        },
      },
      expect: {
        format: 'directory',
        files: {
          dump: 'database.dir',
          roles: null,
          config: 'config.sql',
          written: {
            'database.dir': {
              'toc.dat': { bytes: 10, sha256: SHA('a') },
              '3001.dat.gz': { bytes: 11, sha256: SHA('b') },
            },
          },
        },
      },
    },
    {
      name: 'a snapshot: no definition, its own retention with no time zone, no revision',
      facts: {
        definition: null,
        snapshot: 'before-upgrade',
        revision: null,
        retention: { period: '30d', redundancy: 0 },
      },
      expect: {
        definition: null,
        snapshot: 'before-upgrade',
        revision: null,
        retention: { period: '30d', redundancy: 0 },
      },
    },
    {
      name: 'tiers without a period: keep as stored, undefined fields left out',
      facts: {
        retention: {
          period: undefined,
          redundancy: 1,
          keep: { daily: 7, weekly: 4 },
          timezone: 'UTC',
        } as unknown as RunFacts['retention'],
      },
      expect: { retention: { redundancy: 1, keep: { daily: 7, weekly: 4 }, timezone: 'UTC' } },
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const m = backupManifest({ ...base, ...c.facts });
      const { absent = [], ...fields } = c.expect;
      for (const [k, v] of Object.entries(fields)) assert.deepEqual(m[k as keyof BackupManifest], v, k);
      for (const k of absent) assert.equal(Object.hasOwn(m, k), false, `${k} should be absent`);
      // Whatever the case, the text has no undefined holes and parses back to the same object.
      assert.deepEqual(JSON.parse(backupManifestText(m)), m);
    });
  }

  test('pretty-printed, one object, ending in a newline', () => {
    const text = backupManifestText(backupManifest(base));
    assert.match(text, /^\{\n {2}"formatVersion": 1,\n {2}"runId": /);
    assert.ok(text.endsWith('}\n'));
  });

  test('plain names: one name inside the folder, nothing that could leave it', () => {
    for (const ok of ['database.dump', 'toc.dat', '3001.dat.gz', 'roles.sql', '.hidden'])
      assert.equal(isPlainName(ok), true, ok);
    for (const bad of ['', '.', '..', '../x', 'a/b', '/etc/passwd', 'x..y', 'a\\b', 'a\nb', 'a\0b'])
      assert.equal(isPlainName(bad), false, JSON.stringify(bad));
  });
});

describe('backup.json: writing and reading a folder', () => {
  let base_: string;
  let n = 0;
  before(async () => {
    base_ = await mkdtemp(join(tmpdir(), 'pgbackman-bjson-'));
  });
  after(() => rm(base_, { recursive: true, force: true }));
  const folder = () => {
    const dir = join(base_, `f${n++}`);
    mkdirSync(dir, { mode: 0o700 });
    return dir;
  };
  /** A folder whose backup.json is the builder's, changed by `edit` (a JSON object to mutate). */
  const withJson = (edit: Edit) => {
    const dir = folder();
    const m = JSON.parse(backupManifestText(backupManifest(base)));
    edit(m);
    writeFileSync(join(dir, BACKUP_MANIFEST), JSON.stringify(m));
    return dir;
  };
  const refuses = async (dir: string, message: RegExp, code = 'INVALID_INPUT') => {
    await assert.rejects(readBackupManifest(dir), (err: Error & { code?: string }) => {
      assert.equal(err.code, code, err.message);
      assert.match(err.message, message);
      assert.ok(err.message.startsWith(join(dir, BACKUP_MANIFEST)), `names the file: ${err.message}`);
      return true;
    });
  };

  test('written (0600, never over an existing file) and read back as the same object', async () => {
    const dir = folder();
    const m = backupManifest(base);
    await writeBackupManifest(dir, m);
    assert.deepEqual(await readBackupManifest(dir), m);
    assert.equal(readFileSync(join(dir, BACKUP_MANIFEST), 'utf8'), backupManifestText(m));
    await assert.rejects(writeBackupManifest(dir, m), /EEXIST/);
    const dirFormat = folder();
    const d = backupManifest({
      ...base,
      settings: { code: 'FULL', format: 'directory', compression: 'gzip:5' },
      dump: {
        fileName: 'database.dir',
        written: { 'database.dir': { 'toc.dat': { bytes: 1, sha256: SHA('d') } } },
        roles: false,
        config: false,
      },
    });
    await writeBackupManifest(dirFormat, d);
    assert.deepEqual(await readBackupManifest(dirFormat), d);
  });

  test('"../x" as a file name, wherever it is: refused, naming it', async () => {
    await refuses(
      withJson((m) => {
        m.files.written['../x'] = { bytes: 1, sha256: SHA('e') };
      }),
      /files\.written: "\.\.\/x" is not a plain file name \(one name inside the dump folder: no "\/", no "\.\."\)/,
    );
    await refuses(
      withJson((m) => {
        m.files.dump = '../x';
      }),
      /files\.dump "\.\.\/x" is not a plain file name/,
    );
    await refuses(
      withJson((m) => {
        m.files.roles = '/etc/passwd';
      }),
      /files\.roles "\/etc\/passwd" is not a plain file name/,
    );
    await refuses(
      withJson((m) => {
        m.files.dump = 'database.dir';
        m.files.written = { 'database.dir': { '../../x': { bytes: 1, sha256: SHA('f') } } };
      }),
      /files\.written\["database\.dir"\]: "\.\.\/\.\.\/x" is not a plain file name/,
    );
  });

  test('a missing field: refused, naming it', async () => {
    await refuses(
      withJson((m) => {
        delete m.runId;
      }),
      /: runId is missing$/,
    );
    await refuses(
      withJson((m) => {
        delete m.files.written['database.dump'].sha256;
      }),
      /: files\.written\["database\.dump"\]\.sha256 is missing$/,
    );
    await refuses(
      withJson((m) => {
        delete m.retention.redundancy;
      }),
      /: retention\.redundancy is missing$/,
    );
  });

  test('wrong values: refused, saying what was expected', async () => {
    const table: [Edit, RegExp][] = [
      [(m) => (m.formatVersion = 2), /formatVersion is number 2; this pgbackman reads formatVersion 1/],
      [(m) => (m.code = 'INCREMENTAL'), /code must be one of CLUSTER, FULL, SCHEMA, DATA, not "INCREMENTAL"/],
      [(m) => (m.database = null), /database must be set for a FULL dump/],
      [(m) => (m.snapshot = 'also'), /definition and snapshot: exactly one of them must be set/],
      [(m) => (m.startedAt = 'yesterday'), /startedAt must be an ISO 8601 UTC time/],
      [(m) => (m.databaseBytes = -1), /databaseBytes must be a whole number of 0 or more, not number -1/],
      [(m) => (m.files.written['roles.sql'].sha256 = 'abc'), /sha256 must be 64 lowercase hex digits/],
      [
        (m) => delete m.files.written['config.sql'],
        /files\.config names "config\.sql", which files\.written does not list/,
      ],
      [(m) => (m.retention.keep = { fortnightly: 2 }), /retention\.keep has an unknown tier "fortnightly"/],
      [(m) => (m.runId = 'x'), /runId must be a UUID/],
    ];
    for (const [edit, message] of table) await refuses(withJson(edit), message);
  });

  test('not JSON, not an object, a symlink, no file at all', async () => {
    const notJson = folder();
    writeFileSync(join(notJson, BACKUP_MANIFEST), '{"formatVersion": 1,');
    await refuses(notJson, /: not valid JSON: /);
    const array = folder();
    writeFileSync(join(array, BACKUP_MANIFEST), '[]');
    await refuses(array, /: the file must be a JSON object, not an array/);
    const linked = folder();
    const real = withJson(() => undefined);
    symlinkSync(join(real, BACKUP_MANIFEST), join(linked, BACKUP_MANIFEST));
    await refuses(linked, /is a symbolic link/);
    await refuses(folder(), /does not exist: not a dump folder pgbackman wrote/, 'NOT_FOUND');
  });

  test('fields a later pgbackman may add are ignored', async () => {
    const dir = withJson((m) => {
      m.addedLater = { anything: true };
    });
    assert.deepEqual(await readBackupManifest(dir), backupManifest(base));
  });
});
