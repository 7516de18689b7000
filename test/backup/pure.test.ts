import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { filterRoles } from '../../src/backup/dump/filter-roles.ts';
import { choosePgBinDir } from '../../src/backup/dump/pg-bin-dirs.ts';
import { pgDumpArgs } from '../../src/backup/dump/pg-dump-args.ts';
import { dumpLayout, pathSegment } from '../../src/backup/files/layout.ts';
import { BUILTIN_SETTINGS, resolveSettings } from '../../src/manifest/resolve-settings.ts';

describe('choosing pg_dump', () => {
  const dirs = new Map([
    [13, '/pg/13'],
    [15, '/pg/15'],
    [17, '/pg/17'],
  ]);
  test('the same major as the server when there is one, else the oldest newer one', () => {
    assert.deepEqual(choosePgBinDir(dirs, 15), { major: 15, dir: '/pg/15' });
    assert.deepEqual(choosePgBinDir(dirs, 14), { major: 15, dir: '/pg/15' });
  });
  test('never an older one: say which is missing', () => {
    assert.throws(
      () => choosePgBinDir(dirs, 18),
      /no pg_dump for PostgreSQL 18 or newer on this backup server \(have: 13, 15, 17\)/,
    );
    assert.throws(
      () => choosePgBinDir(dirs, 15, 13),
      /pgDumpVersion 13 is older than the node's PostgreSQL 15/,
    );
    assert.deepEqual(choosePgBinDir(dirs, 15, 17), { major: 17, dir: '/pg/17' });
  });
});

describe('file layout', () => {
  test('names from manifests become safe path segments that cannot leave the root', () => {
    assert.equal(pathSegment("shop O'k"), 'shop%20O%27k');
    assert.equal(pathSegment('..'), '%2E%2E');
    assert.equal(pathSegment('a/b'), 'a%2Fb');
    assert.equal(pathSegment('données'), 'données');
    const l = dumpLayout(
      '/srv/pgbackman',
      'pg01',
      '..',
      'FULL',
      'nightly',
      new Date('2026-11-25T02:30:00.123Z'),
      'abcdef0123',
    );
    assert.equal(l.dir, '/srv/pgbackman/pg01/%2E%2E/20261125T023000Z-FULL-nightly-abcdef01');
    assert.equal(l.partial, `${l.dir}.partial`);
  });
});

describe('pg_dump arguments', () => {
  test('an array per code, the connection in one conninfo argument, extra arguments last', () => {
    const full = pgDumpArgs({ ...BUILTIN_SETTINGS, extraArgs: ['--no-owner'] }, "dbname='x'", {
      target: '/d/database.dump',
      noSync: true,
    });
    assert.deepEqual(full, {
      tool: 'pg_dump',
      args: [
        '--dbname',
        "dbname='x'",
        '--no-password',
        '--verbose',
        '--format=custom',
        '--blobs',
        '--file=/d/database.dump',
        '--no-sync',
        '--no-owner',
      ],
      output: 'file',
    });
    const plain = pgDumpArgs({ ...BUILTIN_SETTINGS, format: 'plain' }, 'c', { target: '/d/database.sql' });
    assert.equal(plain.output, 'stdout');
    assert.ok(!plain.args.some((a) => a.startsWith('--file') || a === '--no-sync'));
    const dir = pgDumpArgs({ ...BUILTIN_SETTINGS, code: 'SCHEMA', format: 'directory', jobs: 2 }, 'c', {
      target: '/d',
    });
    assert.deepEqual(dir.args.slice(3), [
      '--verbose',
      '--format=directory',
      '--schema-only',
      '--jobs=2',
      '--file=/d',
    ]);
    assert.equal(dir.output, 'directory');
    assert.deepEqual(pgDumpArgs({ ...BUILTIN_SETTINGS, code: 'CLUSTER' }, 'c').tool, 'pg_dumpall');
  });
});

describe('the roles file', () => {
  test('keeps only the roles the database needs and the memberships granted to them', () => {
    const dump = [
      '-- Roles',
      'CREATE ROLE app;',
      'ALTER ROLE app WITH NOSUPERUSER LOGIN;',
      'CREATE ROLE "Other Team";',
      'ALTER ROLE "Other Team" WITH NOLOGIN;',
      'CREATE ROLE readers;',
      'GRANT readers TO app GRANTED BY postgres;',
      'GRANT readers TO "Other Team" GRANTED BY postgres;',
    ].join('\n');
    assert.equal(
      filterRoles(dump, ['app', 'readers']),
      '-- Roles needed by this database (from pg_dumpall --roles-only)\nCREATE ROLE app;\nALTER ROLE app WITH NOSUPERUSER LOGIN;\nCREATE ROLE readers;\nGRANT readers TO app GRANTED BY postgres;\n',
    );
    assert.match(filterRoles(dump, ['Other Team']), /CREATE ROLE "Other Team";/);
  });
});

describe("a dump's timeout", () => {
  const node = (timeout?: string) =>
    ({ spec: { host: 'h', defaults: timeout === undefined ? {} : { timeout } } }) as never;
  const server = node;
  for (const c of [
    { name: 'none set: 24h', own: undefined, node: undefined, server: undefined, want: '24h' },
    { name: "the server's", own: undefined, node: undefined, server: '3d', want: '3d' },
    { name: "the node's before the server's", own: undefined, node: '6h', server: '3d', want: '6h' },
    { name: "the definition's own first", own: '90m', node: '6h', server: '3d', want: '90m' },
  ])
    test(c.name, () => {
      const own = c.own === undefined ? {} : { timeout: c.own };
      assert.equal(resolveSettings(own, node(c.node), server(c.server)).timeout, c.want);
    });
});
