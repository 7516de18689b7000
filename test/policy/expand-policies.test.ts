import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type DatabaseSelector,
  matchesPattern,
  selectsDatabase,
} from '../../src/policy/database-selector.ts';
import {
  DATABASE_DROPPED_AT,
  type ExpansionInput,
  expandPolicies,
  type GeneratedDefinition,
  type PolicyInput,
} from '../../src/policy/expand-policies.ts';
import { GENERATED_BY, generatedName } from '../../src/policy/generated-name.ts';
import { databaseDrift, policyDatabases } from '../../src/policy/policy-databases.ts';

const DNS_1123 = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

describe('generated names', () => {
  const cases: [policy: string, node: string, database: string, name: RegExp | string][] = [
    ['all', 'pg01', 'shop', 'all-pg01-shop'],
    ['all', 'pg01', 'shop-o', 'all-pg01-shop-o'],
    ['all', 'pg01', 'Shop_ø', /^all-pg01-shop-o-[0-9a-f]{8}$/],
    ['all', 'pg01', 'Shop', /^all-pg01-shop-[0-9a-f]{8}$/],
    ['all', 'pg01', 'données', /^all-pg01-donnees-[0-9a-f]{8}$/],
    ['all', 'pg01', 'straße_æ', /^all-pg01-strasse-ae-[0-9a-f]{8}$/],
    ['all', 'pg01', '日本語', /^all-pg01-[0-9a-f]{8}$/],
    ['all', 'pg01', 'a b"c;d', /^all-pg01-a-b-c-d-[0-9a-f]{8}$/],
    ['all', 'pg01', 'x'.repeat(80), /^all-pg01-x{45}-[0-9a-f]{8}$/],
    ['all', 'pg01', `${'y'.repeat(44)}-${'z'.repeat(20)}`, /^all-pg01-y{44}-[0-9a-f]{8}$/],
  ];
  for (const [policy, node, database, expected] of cases) {
    test(`${policy} ${node} ${JSON.stringify(database.slice(0, 20))}`, () => {
      const name = generatedName(policy, node, database);
      if (typeof expected === 'string') assert.equal(name, expected);
      else assert.match(name, expected);
      assert.match(name, DNS_1123);
      assert.ok(name.length <= 63, `${name} is ${name.length} characters`);
      assert.equal(generatedName(policy, node, database), name, 'the same every time');
    });
  }
  test('names that reduce alike stay apart', () => {
    const names = ['Shop_ø', 'shop-o', 'SHOP-O', 'shop_o', 'shop o', 'shöp-o'].map((db) =>
      generatedName('all', 'pg01', db),
    );
    assert.equal(new Set(names).size, names.length, names.join(' '));
    const long = [`${'a'.repeat(70)}1`, `${'a'.repeat(70)}2`].map((db) => generatedName('p', 'n', db));
    assert.notEqual(long[0], long[1]);
  });
});

describe('database patterns', () => {
  const cases: [pattern: string, name: string, matches: boolean][] = [
    ['*', 'shop', true],
    ['shop*', 'shop_eu', true],
    ['shop*', 'Shop_eu', false],
    ['sh?p', 'shop', true],
    ['sh?p', 'shøp', true],
    ['sh?p', 'shoop', false],
    ['a.b', 'axb', false],
    ['a.b', 'a.b', true],
    ['(x)+[y]', '(x)+[y]', true],
    ['*_test', 'shop_test', true],
    ['*_test', 'shop_test_old', false],
    ['ø*', 'øst', true],
  ];
  for (const [pattern, name, matches] of cases)
    test(`${pattern} ${matches ? 'matches' : 'does not match'} ${name}`, () =>
      assert.equal(matchesPattern(pattern, name), matches));

  test('template0, template1 and postgres only when include names them literally', () => {
    for (const db of ['template0', 'template1', 'postgres']) {
      assert.equal(selectsDatabase(undefined, db), false, db);
      assert.equal(selectsDatabase({ include: ['*'] }, db), false, db);
      assert.equal(selectsDatabase({ include: ['template?', 'post*'] }, db), false, db);
      assert.equal(selectsDatabase({ include: ['*', db] }, db), true, db);
      assert.equal(selectsDatabase({ include: [db], exclude: ['*'] }, db), false, db);
    }
    assert.equal(selectsDatabase(undefined, 'postgres2'), true);
  });
  test('exclude wins over include', () => {
    const s: DatabaseSelector = { include: ['shop*', 'crm'], exclude: ['*_test'] };
    assert.deepEqual(
      ['shop', 'shop_test', 'crm', 'crm_test', 'hr'].filter((db) => selectsDatabase(s, db)),
      ['shop', 'crm'],
    );
  });
});

function policy(name: string, spec: Partial<PolicyInput['spec']> = {}): PolicyInput {
  return {
    name,
    labels: { team: 'dba' },
    spec: { server: 'b1', nodeSelector: { matchLabels: { env: 'prod' } }, ...spec },
  };
}

const NOW = new Date('2026-11-20T12:00:00Z');

function input(o: Partial<ExpansionInput>): ExpansionInput {
  return {
    policies: [policy('all')],
    nodes: [
      { name: 'pg01', labels: { env: 'prod' } },
      { name: 'pg02', labels: { env: 'prod' } },
      { name: 'dev01', labels: { env: 'dev' } },
    ],
    databases: new Map([
      ['pg01', ['postgres', 'template1', 'shop', 'Shop_ø', 'shop-o']],
      ['pg02', ['crm']],
      ['dev01', ['scratch']],
    ]),
    explicit: [],
    previous: [],
    now: NOW,
    ...o,
  };
}

const names = (defs: readonly GeneratedDefinition[]) => defs.map((d) => d.name);

describe('expanding policies', () => {
  test('one definition per selected database of each selected node, with the template', () => {
    const e = expandPolicies(
      input({
        policies: [
          policy('all', {
            template: { schedule: 'auto', retention: { period: '7d' }, format: 'directory', jobs: 2 },
          }),
        ],
      }),
    );
    assert.deepEqual(names(e.definitions), [
      'all-pg01-shop',
      'all-pg01-shop-o',
      e.definitions[2]?.name,
      'all-pg02-crm',
    ]);
    assert.match(e.definitions[2]?.name ?? '', /^all-pg01-shop-o-[0-9a-f]{8}$/);
    assert.deepEqual(e.definitions[0], {
      name: 'all-pg01-shop',
      policy: 'all',
      spec: {
        server: 'b1',
        node: 'pg01',
        database: 'shop',
        schedule: 'auto',
        retention: { period: '7d' },
        format: 'directory',
        jobs: 2,
      },
      labels: { team: 'dba' },
      annotations: { [GENERATED_BY]: 'BackupPolicy/all' },
    });
    assert.equal(e.definitions[2]?.spec.database, 'Shop_ø');
    assert.deepEqual(e.unexpanded, []);
    assert.deepEqual(e.conflicts, []);
  });

  test('nodes by name or by labels; databases by include and exclude', () => {
    const e = expandPolicies(
      input({
        policies: [
          policy('sel', {
            nodeSelector: { names: ['dev01'], matchLabels: { env: 'none' } },
            databases: { include: ['s*', 'postgres'], exclude: ['shop'] },
          }),
        ],
        databases: new Map([['dev01', ['postgres', 'template1', 'scratch', 'shop', 'other']]]),
      }),
    );
    assert.deepEqual(names(e.definitions), ['sel-dev01-postgres', 'sel-dev01-scratch']);
  });

  test('an explicit definition for the node and database wins', () => {
    const e = expandPolicies(
      input({
        explicit: [
          { name: 'shop-nightly', node: 'pg01', database: 'shop' },
          { name: 'pg02-cluster', node: 'pg02', database: undefined },
          { name: 'other-node', node: 'dev01', database: 'crm' },
        ],
      }),
    );
    assert.deepEqual(names(e.definitions).slice(0, 1), ['all-pg01-shop-o']);
    assert.ok(names(e.definitions).includes('all-pg02-crm'), 'a CLUSTER definition covers no database');
    assert.ok(!names(e.definitions).includes('all-pg01-shop'));
  });

  test('skipDatabasesWithDefinitions: false covers those databases too, beside the explicit definition', () => {
    const explicit = [
      { name: 'shop-nightly', node: 'pg01', database: 'shop' },
      { name: 'all-pg02-crm', node: 'pg02', database: 'crm' },
    ];
    const skip = (value: boolean | undefined) =>
      names(
        expandPolicies(
          input({
            policies: [
              policy(
                'all',
                value === undefined ? {} : { databases: { skipDatabasesWithDefinitions: value } },
              ),
            ],
            explicit,
          }),
        ).definitions,
      );
    assert.deepEqual(skip(undefined), skip(true), 'true is the default: the explicit definition wins');
    assert.ok(!skip(true).includes('all-pg01-shop'));
    const all = skip(false);
    assert.ok(all.includes('all-pg01-shop'), 'beside shop-nightly');
    assert.ok(
      all.some((n) => /^all-pg02-crm-[0-9a-f]{8}$/.test(n)),
      `its plain name is the explicit one's, so it is hashed: ${all.join(' ')}`,
    );
  });

  test('names two databases or an explicit definition would share are hashed, and never shared', () => {
    const e = expandPolicies(
      input({
        policies: [policy('all'), policy('all-pg', { nodeSelector: { names: ['1'] } })],
        nodes: [
          { name: 'pg-1', labels: { env: 'prod' } },
          { name: '1', labels: {} },
        ],
        databases: new Map([
          ['pg-1', ['shop', 'crm']],
          ['1', ['shop']],
        ]),
        explicit: [{ name: 'all-pg-1-crm', node: 'elsewhere', database: 'x' }],
      }),
    );
    const got = names(e.definitions);
    assert.equal(got.length, 3);
    assert.equal(new Set(got).size, 3);
    for (const n of got) assert.match(n, /^all-pg-1-(shop|crm)-[0-9a-f]{8}$/);
    assert.deepEqual(e.conflicts, []);
  });

  test('a node that was not reached keeps its definitions and is reported', () => {
    const previous: GeneratedDefinition = {
      name: 'all-pg02-crm',
      policy: 'all',
      spec: { server: 'b1', node: 'pg02', database: 'crm', schedule: 'old' },
      labels: {},
      annotations: { [GENERATED_BY]: 'BackupPolicy/all' },
    };
    const e = expandPolicies(input({ databases: new Map([['pg01', ['shop']]]), previous: [previous] }));
    assert.deepEqual(names(e.definitions), ['all-pg01-shop', 'all-pg02-crm']);
    assert.equal(e.definitions[1], previous);
    assert.deepEqual(e.unexpanded, [{ policy: 'all', nodes: ['pg02'] }]);
  });

  test("a dropped database's definition is suspended for deletedDatabaseRetention, then removed", () => {
    const gone = (annotations: Record<string, string>): GeneratedDefinition => ({
      name: 'all-pg02-old',
      policy: 'all',
      spec: { server: 'b1', node: 'pg02', database: 'old' },
      labels: {},
      annotations: { [GENERATED_BY]: 'BackupPolicy/all', ...annotations },
    });
    const policies = [policy('all', { deletedDatabaseRetention: '3d' })];
    const first = expandPolicies(input({ policies, previous: [gone({})] }));
    const kept = first.definitions.find((d) => d.name === 'all-pg02-old');
    assert.equal(kept?.spec.suspend, true);
    assert.equal(kept?.annotations[DATABASE_DROPPED_AT], NOW.toISOString());

    const later = (days: number) =>
      expandPolicies(
        input({
          policies,
          previous: [gone({ [DATABASE_DROPPED_AT]: NOW.toISOString() })],
          now: new Date(NOW.getTime() + days * 86_400_000),
        }),
      ).definitions.find((d) => d.name === 'all-pg02-old');
    assert.equal(later(2)?.annotations[DATABASE_DROPPED_AT], NOW.toISOString(), 'the first time is kept');
    assert.equal(later(3), undefined);

    const back = expandPolicies(
      input({
        policies,
        databases: new Map([['pg02', ['old']]]),
        previous: [gone({ [DATABASE_DROPPED_AT]: NOW.toISOString() })],
      }),
    ).definitions[0];
    assert.equal(back?.spec.suspend, undefined, 'a database created again is backed up again');
    assert.deepEqual(back?.annotations, { [GENERATED_BY]: 'BackupPolicy/all' });

    const excluded = expandPolicies(
      input({
        policies: [policy('all', { databases: { exclude: ['old'] } })],
        previous: [gone({})],
      }),
    );
    assert.ok(!names(excluded.definitions).includes('all-pg02-old'), 'no longer selected: removed at once');
  });

  test('a suspended policy generates suspended definitions', () => {
    const e = expandPolicies(input({ policies: [policy('all', { suspend: true })] }));
    assert.ok(e.definitions.every((d) => d.spec.suspend === true));
  });
});

describe('the databases a saved plan was made with (pure)', () => {
  const nodes = [
    { name: 'pg01', labels: { env: 'prod' } },
    { name: 'pg02', labels: { env: 'prod' } },
    { name: 'down', labels: { env: 'prod' } },
  ];
  const live = new Map([
    ['pg01', ['postgres', 'shop', 'tmp_x', 'crm']],
    ['pg02', ['billing']],
  ]);
  const recorded = policyDatabases(
    [
      policy('all', { databases: { exclude: ['tmp_*'] } }),
      policy('one', { nodeSelector: { names: ['pg01'] } }),
    ],
    nodes,
    live,
  );

  test('per node reached, the databases some policy selecting it selects, with those policies’ selectors', () => {
    assert.deepEqual(recorded, [
      { node: 'pg01', selectors: [{ exclude: ['tmp_*'] }, null], databases: ['crm', 'shop', 'tmp_x'] },
      { node: 'pg02', selectors: [{ exclude: ['tmp_*'] }], databases: ['billing'] },
    ]);
  });

  const cases: [name: string, now: [string, string[]][], drift: string[]][] = [
    [
      'nothing changed',
      [
        ['pg01', ['shop', 'crm', 'tmp_x', 'postgres']],
        ['pg02', ['billing']],
      ],
      [],
    ],
    [
      'a database no policy selects comes and goes',
      [
        ['pg01', ['shop', 'crm', 'tmp_x']],
        ['pg02', ['billing', 'tmp_y', 'postgres']],
      ],
      [],
    ],
    ['a node not reached now is not compared', [['pg01', ['shop', 'crm', 'tmp_x']]], []],
    [
      'created and dropped, per node',
      [
        ['pg01', ['shop', 'tmp_x', 'Shop_ø']],
        ['pg02', []],
      ],
      ['node pg01: "Shop_ø" created, "crm" dropped', 'node pg02: "billing" dropped'],
    ],
  ];
  for (const [name, now, drift] of cases)
    test(name, () => assert.deepEqual(databaseDrift(recorded, new Map(now)), drift));
});
