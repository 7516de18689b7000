import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Kind } from '../../src/manifest/kinds.ts';
import type { DesiredObject } from '../../src/plan/desired-state.ts';
import { diffStates } from '../../src/plan/diff-states.ts';
import { hashObject, type ObjectState } from '../../src/plan/object-state.ts';

function obj(
  kind: Kind,
  name: string,
  spec: Record<string, unknown> = {},
  extra: Partial<DesiredObject> = {},
): DesiredObject {
  const base = { kind, name, spec, labels: extra.labels ?? {}, annotations: extra.annotations ?? {} };
  return {
    ...base,
    hash: hashObject(base),
    sourceFile: null,
    managed: true,
    previousName: undefined,
    ...extra,
  };
}

const actual = (o: DesiredObject, managed = true): ObjectState => ({ ...o, managed });
const actions = (plan: ReturnType<typeof diffStates>) => plan.changes.map((c) => `${c.action} ${c.address}`);

describe('diffStates', () => {
  const cases: { name: string; desired: DesiredObject[]; actual: ObjectState[]; want: string[] }[] = [
    { name: 'nothing on either side: no changes', desired: [], actual: [], want: [] },
    {
      name: 'creates parents before children, whatever the input order',
      desired: [
        obj('BackupDefinition', 'd', { server: 's', node: 'n' }),
        obj('PgSQLNode', 'n'),
        obj('BackupServer', 's'),
      ],
      actual: [],
      want: ['create BackupServer/s', 'create PgSQLNode/n', 'create BackupDefinition/d'],
    },
    {
      name: 'deletes children before parents, after every create and update',
      desired: [obj('BackupServer', 't')],
      actual: [
        actual(obj('BackupServer', 's')),
        actual(obj('PgSQLNode', 'n')),
        actual(obj('BackupDefinition', 'd')),
      ],
      want: [
        'create BackupServer/t',
        'delete BackupDefinition/d',
        'delete PgSQLNode/n',
        'delete BackupServer/s',
      ],
    },
    {
      name: 'an identical object is a no-op',
      desired: [obj('BackupServer', 's', { hostname: 'a' })],
      actual: [actual(obj('BackupServer', 's', { hostname: 'a' }))],
      want: [],
    },
    {
      name: 'a changed label is an update',
      desired: [obj('PgSQLNode', 'n', {}, { labels: { env: 'prod' } })],
      actual: [actual(obj('PgSQLNode', 'n', {}, { labels: { env: 'dev' } }))],
      want: ['update PgSQLNode/n'],
    },
    {
      name: 'an unmanaged object is left alone, never deleted',
      desired: [],
      actual: [actual(obj('BackupServer', 'legacy'), false)],
      want: [],
    },
    {
      name: 'a manifest naming an unmanaged object takes it over',
      desired: [obj('BackupServer', 'legacy', { hostname: 'x' })],
      actual: [actual(obj('BackupServer', 'legacy', { hostname: 'x' }), false)],
      want: ['update BackupServer/legacy'],
    },
    {
      name: 'previousName turns a delete and a create into a move',
      desired: [obj('BackupDefinition', 'new', { database: 'shop' }, { previousName: 'old' })],
      actual: [actual(obj('BackupDefinition', 'old', { database: 'shop' }))],
      want: ['move BackupDefinition/new'],
    },
    {
      name: 'previousName naming an object that still exists under its own manifest is not a move',
      desired: [obj('BackupDefinition', 'new', {}, { previousName: 'old' }), obj('BackupDefinition', 'old')],
      actual: [actual(obj('BackupDefinition', 'old'))],
      want: ['create BackupDefinition/new'],
    },
  ];
  for (const c of cases) {
    test(c.name, () => assert.deepEqual(actions(diffStates(c.desired, c.actual)), c.want));
  }

  test('an update lists every changed leaf with its old and new value', () => {
    const before = actual(
      obj('BackupDefinition', 'd', {
        schedule: '0 1 * * *',
        retention: { period: '7d', redundancy: 1 },
        jobs: 2,
      }),
    );
    const after = obj('BackupDefinition', 'd', {
      schedule: '0 2 * * *',
      retention: { period: '7d', redundancy: 3 },
      format: 'directory',
    });
    const [change] = diffStates([after], [before]).changes;
    assert.ok(change?.action === 'update');
    assert.deepEqual(change.fields, [
      { path: 'spec.format', before: undefined, after: 'directory' },
      { path: 'spec.jobs', before: 2, after: undefined },
      { path: 'spec.retention.redundancy', before: 1, after: 3 },
      { path: 'spec.schedule', before: '0 1 * * *', after: '0 2 * * *' },
    ]);
    assert.deepEqual(diffStates([after], [before]).summary, { add: 0, change: 1, destroy: 0 });
  });

  test('keys reordered: no change, but the stale hash is listed for apply to refresh', () => {
    const written = obj('BackupServer', 's', { hostname: 'h', root: '/r' }, { labels: { a: '1', b: '2' } });
    const stored = actual(written);
    const reordered = obj('BackupServer', 's', { root: '/r', hostname: 'h' }, { labels: { b: '2', a: '1' } });
    const untouched = obj('BackupServer', 'same');
    assert.notEqual(reordered.hash, stored.hash);
    const plan = diffStates([reordered, untouched], [stored, actual(untouched)]);
    assert.deepEqual(plan.changes, []);
    assert.deepEqual(plan.refresh, [{ kind: 'BackupServer', name: 's', hash: reordered.hash }]);
    // An unmanaged object with the same spec is taken over (written), not refreshed.
    const adopted = diffStates([reordered], [actual(written, false)]);
    assert.deepEqual([actions(adopted), adopted.refresh], [['update BackupServer/s'], []]);
  });

  test('prevent-destroy, by lifecycle or by annotation, makes a delete an error', () => {
    const byLifecycle = actual(obj('BackupDefinition', 'a', { lifecycle: { preventDestroy: true } }));
    const byAnnotation = actual(
      obj('BackupDefinition', 'b', {}, { annotations: { 'pgbackman.io/prevent-destroy': 'true' } }),
    );
    const plan = diffStates([obj('BackupServer', 's')], [byLifecycle, byAnnotation]);
    assert.deepEqual(
      plan.errors.map((e) => e.summary),
      ['BackupDefinition/a cannot be destroyed', 'BackupDefinition/b cannot be destroyed'],
    );
  });

  test('an empty manifest set deleting managed objects is an error unless allowed', () => {
    const state = [actual(obj('BackupServer', 's'))];
    assert.deepEqual(
      diffStates([], state).errors.map((e) => e.summary),
      ['the manifests are empty'],
    );
    assert.deepEqual(diffStates([], state, { allowEmpty: true }).errors, []);
  });
});
