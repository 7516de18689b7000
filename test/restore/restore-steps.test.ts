import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readDatabaseConfig } from '../../src/restore/config-file.ts';
import { clusterRefusal } from '../../src/restore/restore-due.ts';
import {
  type DumpFacts,
  decideRestore,
  defaultRenameTo,
  type RestoreRequest,
  type TargetFacts,
} from '../../src/restore/restore-steps.ts';
import { createMissingRoles, readRolesFile } from '../../src/restore/roles-file.ts';
import { splitStatements } from '../../src/restore/sql-text.ts';
import { checkTables, withinEstimate } from '../../src/restore/table-checks.ts';

const DUMP: DumpFacts = { code: 'FULL', format: 'custom', hasRoles: true, hasConfig: true };
const REQ: RestoreRequest = {
  database: 'shop',
  existing: 'fail',
  renameTo: undefined,
  roles: 'create-missing',
  config: true,
  jobs: 1,
  terminate: false,
  extraArgs: [],
};
const TARGET: TargetFacts = {
  exists: false,
  connections: 0,
  isSource: false,
  renameTaken: false,
  rolesToCreate: ['app'],
  rolesPresent: ['reader'],
};
const kinds = (d: ReturnType<typeof decideRestore>) => (d.ok ? d.steps.map((s) => s.kind) : d.reason);

describe('the steps of a restore (pure)', () => {
  const cases: [
    string,
    Partial<DumpFacts>,
    Partial<RestoreRequest>,
    Partial<TargetFacts>,
    string[] | RegExp,
  ][] = [
    [
      'a new database',
      {},
      {},
      {},
      ['check-dump', 'create-roles', 'keep-roles', 'create-database', 'restore-data'],
    ],
    ['roles skipped', {}, { roles: 'skip' }, {}, ['check-dump', 'create-database', 'restore-data']],
    [
      'a dump without roles.sql',
      { hasRoles: false },
      {},
      {},
      ['check-dump', 'create-database', 'restore-data'],
    ],
    ['exists, fail', {}, {}, { exists: true }, /exists on the target; nothing was touched/],
    [
      'exists, rename',
      {},
      { existing: 'rename', renameTo: 'shop_old' },
      { exists: true },
      ['check-dump', 'create-roles', 'keep-roles', 'rename-database', 'create-database', 'restore-data'],
    ],
    [
      'exists, rename to a name taken',
      {},
      { existing: 'rename', renameTo: 'x' },
      { exists: true, renameTaken: true },
      /"x" exists already/,
    ],
    [
      'exists, drop',
      {},
      { existing: 'drop' },
      { exists: true },
      ['check-dump', 'create-roles', 'keep-roles', 'drop-database', 'create-database', 'restore-data'],
    ],
    [
      'drop of the source',
      {},
      { existing: 'drop' },
      { exists: true, isSource: true },
      /own source: dropping it is refused/,
    ],
    [
      'rename of the source is allowed',
      {},
      { existing: 'rename', renameTo: 'y' },
      { exists: true, isSource: true },
      ['check-dump', 'create-roles', 'keep-roles', 'rename-database', 'create-database', 'restore-data'],
    ],
    [
      'in use',
      {},
      { existing: 'drop' },
      { exists: true, connections: 2 },
      /in use by 2 session\(s\): it is not dropped unless --terminate-connections/,
    ],
    [
      'in use, terminate',
      {},
      { existing: 'drop', terminate: true },
      { exists: true, connections: 2 },
      [
        'check-dump',
        'create-roles',
        'keep-roles',
        'terminate-connections',
        'drop-database',
        'create-database',
        'restore-data',
      ],
    ],
    [
      'DATA into an existing database',
      { code: 'DATA' },
      {},
      { exists: true },
      ['check-dump', 'create-roles', 'keep-roles', 'restore-data'],
    ],
    [
      'DATA without the database',
      { code: 'DATA' },
      {},
      {},
      /a DATA dump restores into a database that has its tables/,
    ],
    [
      'CLUSTER',
      { code: 'CLUSTER', format: 'plain' },
      {},
      {},
      /CLUSTER dump restores a whole node \(`pgbackman restore`, a RestoreDefinition\); a restore test restores one database/,
    ],
  ];
  for (const [name, dump, req, target, expected] of cases)
    test(name, () => {
      const got = kinds(decideRestore({ ...DUMP, ...dump }, { ...REQ, ...req }, { ...TARGET, ...target }));
      if (expected instanceof RegExp) assert.match(String(got), expected);
      else assert.deepEqual(got, expected);
    });

  test('a refusal names what would change it: the flag, the manifest field, or for a CLUSTER dump no --database', () => {
    const reason = (via: 'cli' | 'manifest' | 'cluster') => {
      const d = decideRestore(DUMP, { ...REQ, via }, { ...TARGET, exists: true });
      return d.ok ? '' : d.reason;
    };
    assert.match(reason('cli'), /\(--existing rename or drop, or --database another name\)/);
    assert.match(reason('manifest'), /\(existing: rename or drop, or another target\.database\)/);
    assert.match(reason('cluster'), /\(--existing rename or drop\)$/);
  });

  test('one database of a CLUSTER dump in a RestoreDefinition: its refusal names the manifest field, no other database name', () => {
    const d = decideRestore(
      { ...DUMP, code: 'FULL', format: 'plain' },
      { ...REQ, via: 'manifest-cluster' },
      { ...TARGET, exists: true },
    );
    assert.match(d.ok ? '' : d.reason, /nothing was touched \(existing: rename or drop\)$/);
  });

  test('a RestoreDefinition that names a CLUSTER dump by backupId: the fields that do not apply are named', () => {
    const node = { node: 'pg2' };
    const cases: [string, Parameters<typeof clusterRefusal>[0], RegExp | undefined][] = [
      [
        'as written for a CLUSTER dump',
        { source: { backupId: 'ab12cd34' }, target: node, existing: 'rename' },
        undefined,
      ],
      [
        'target.database',
        { source: { backupId: 'ab12cd34' }, target: { ...node, database: 'shop' } },
        /every database of its node under its own name, with psql: target\.database does not apply to it; remove it$/,
      ],
      [
        'jobs and extraArgs',
        { source: { backupId: 'ab12cd34' }, target: node, jobs: 4, extraArgs: ['--no-owner'] },
        /: jobs, extraArgs do not apply to it; remove them$/,
      ],
    ];
    for (const [name, spec, expected] of cases) {
      const got = clusterRefusal(spec);
      if (expected === undefined) assert.equal(got, undefined, name);
      else assert.match(String(got), expected, name);
    }
  });

  test('plain dumps go through psql, the others through pg_restore', () => {
    const tool = (format: DumpFacts['format']) => {
      const d = decideRestore({ ...DUMP, format }, REQ, TARGET);
      return d.ok ? d.steps.at(-1) : undefined;
    };
    assert.deepEqual(tool('plain'), { kind: 'restore-data', tool: 'psql', into: 'new' });
    assert.deepEqual(tool('tar'), { kind: 'restore-data', tool: 'pg_restore', into: 'new' });
  });

  test('the default new name of an existing database: <name>_<UTC timestamp>, within 63 bytes', () => {
    const at = new Date('2026-12-02T21:05:09.123Z');
    assert.equal(defaultRenameTo('shop', at), 'shop_20261202_210509');
    const long = defaultRenameTo('é'.repeat(40), at);
    assert.ok(Buffer.byteLength(long) <= 63 && long.endsWith('_20261202_210509'));
  });
});

describe("a dump's roles.sql and config.sql, read for a restore (pure)", () => {
  const ROLES = `-- Roles needed by this database (from pg_dumpall --roles-only)
CREATE ROLE "Reader Ro";
ALTER ROLE "Reader Ro" WITH NOSUPERUSER INHERIT NOLOGIN;
CREATE ROLE app;
ALTER ROLE app WITH LOGIN PASSWORD 'SCRAM-SHA-256$4096:abc';
GRANT "Reader Ro" TO app GRANTED BY postgres;
`;
  test('only the missing roles are created, with their memberships, without GRANTED BY', () => {
    const file = readRolesFile(ROLES);
    assert.deepEqual(file.roles, ['Reader Ro', 'app']);
    assert.deepEqual(createMissingRoles(file, new Set(['Reader Ro'])), [
      'CREATE ROLE app;',
      "ALTER ROLE app WITH LOGIN PASSWORD 'SCRAM-SHA-256$4096:abc';",
      'GRANT "Reader Ro" TO "app"',
    ]);
    assert.deepEqual(createMissingRoles(file, new Set(['Reader Ro', 'app'])), []);
  });

  const CONFIG = `--
SET statement_timeout = 0;
CREATE DATABASE "Shop DB" WITH TEMPLATE = template0 ENCODING = 'UTF8' LOCALE = 'C';
ALTER DATABASE "Shop DB" OWNER TO app;
\\connect -reuse-previous=on "dbname='Shop DB'"
COMMENT ON DATABASE "Shop DB" IS 'two
lines; with a semicolon';
ALTER DATABASE "Shop DB" SET work_mem TO '8MB';
ALTER ROLE "Reader Ro" IN DATABASE "Shop DB" SET search_path TO 'public';
CREATE SCHEMA pg_toast;
GRANT CONNECT ON DATABASE "Shop DB" TO "Reader Ro";
`;
  test('every statement about the database names the target, CREATE DATABASE first', () => {
    const config = readDatabaseConfig(CONFIG, 'Shop DB', 'copy "1"');
    assert.deepEqual(config.statements, [
      `CREATE DATABASE "copy ""1""" WITH TEMPLATE = template0 ENCODING = 'UTF8' LOCALE = 'C';`,
      'ALTER DATABASE "copy ""1""" OWNER TO app;',
      `COMMENT ON DATABASE "copy ""1""" IS 'two\nlines; with a semicolon';`,
      `ALTER DATABASE "copy ""1""" SET work_mem TO '8MB';`,
      `ALTER ROLE "Reader Ro" IN DATABASE "copy ""1""" SET search_path TO 'public';`,
      'GRANT CONNECT ON DATABASE "copy ""1""" TO "Reader Ro";',
    ]);
  });

  test('a bare source name is found too; without config.sql the database is created plainly', () => {
    const config = readDatabaseConfig('CREATE DATABASE shop WITH TEMPLATE = template0;\n', 'shop', 'shop');
    assert.deepEqual(config.statements, ['CREATE DATABASE "shop" WITH TEMPLATE = template0;']);
    assert.deepEqual(readDatabaseConfig('', 'shop', 'new').statements, [
      'CREATE DATABASE "new" TEMPLATE template0',
    ]);
  });

  test('statements end at a semicolon outside quotes; meta-commands and comments are left out', () => {
    assert.deepEqual(splitStatements(`\\restrict abc\n-- c\nSELECT 'a;b';\nSELECT "x;y"\n  FROM t;\n`), [
      "SELECT 'a;b';",
      'SELECT "x;y"\n  FROM t;',
    ]);
  });
});

describe("a restore test's tables against the estimates taken with the dump (pure)", () => {
  test('10 % or 100 rows of slack, and a never-analysed table (-1) checks presence only', () => {
    const found = checkTables(
      { 'public.a': 1000, 'public.b': 1000, 'public.c': -1, 'public.d': 50, 'public.gone': 10 },
      new Map([
        ['public.a', 1090],
        ['public.b', 1200],
        ['public.c', 123_456],
        ['public.d', 0],
      ]),
    );
    assert.deepEqual(found.missing, ['public.gone']);
    assert.deepEqual(
      found.offEstimate.map((c) => c.table),
      ['public.b'],
    );
    assert.ok(withinEstimate(50, 0) && withinEstimate(-1, 5) && !withinEstimate(10_000, 8_000));
  });
});
