import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CatalogueObject } from '../../src/catalogue/list-objects.ts';
import type { Kind, SpecOf } from '../../src/manifest/kinds.ts';
import { definitionView, parentsOf, suspensionOf } from '../../src/schedule/definition-schedule.ts';

function object<K extends Kind>(kind: K, name: string, spec: object): CatalogueObject<K> {
  return {
    kind,
    name,
    spec: spec as SpecOf<K>,
    labels: {},
    annotations: {},
    generation: 1,
    managed: true,
    source: { file: null, revision: null },
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
  };
}

const parents = (nodeSuspended: boolean, serverSuspended: boolean) =>
  parentsOf(
    [
      object('PgSQLNode', 'pg01', {
        host: 'h',
        suspend: nodeSuspended,
        defaults: { timezone: 'Europe/Oslo' },
      }),
    ],
    [
      object('BackupServer', 'b01', {
        hostname: 'h',
        suspend: serverSuspended,
        defaults: { timezone: 'Asia/Tokyo' },
      }),
    ],
  );
const definition = (spec: object = {}) =>
  object('BackupDefinition', 'shop', { server: 'b01', node: 'pg01', database: 'shop', ...spec });

describe('suspensionOf: the definition, then its node, then its server', () => {
  const cases: [string, object, boolean, boolean, unknown][] = [
    ['none', {}, false, false, null],
    ['the definition', { suspend: true }, true, true, { by: 'definition', name: 'shop' }],
    ['the node', {}, true, true, { by: 'node', name: 'pg01' }],
    ['the server', { suspend: false }, false, true, { by: 'server', name: 'b01' }],
  ];
  for (const [name, spec, node, server, want] of cases) {
    test(name, () => assert.deepEqual(suspensionOf(definition(spec), parents(node, server)), want));
  }
});

describe('definitionView', () => {
  const now = new Date('2026-12-02T12:00:00Z');
  test('a cron in the zone the settings resolve to (the node’s defaults before the server’s)', () => {
    const v = definitionView(definition({ schedule: '0 3 * * *' }), parents(false, false), now);
    assert.deepEqual(v.resolvedSchedule, { cron: '0 3 * * *', timezone: 'Europe/Oslo', auto: false });
    assert.deepEqual([v.nextRunAt, v.suspended, v.name], ['2026-12-03T02:00:00.000Z', null, 'shop']);
  });
  test('auto in the node’s zone; no next run while suspended', () => {
    const v = definitionView(definition(), parents(true, false), now);
    assert.equal(v.resolvedSchedule.auto, true);
    assert.equal(v.resolvedSchedule.timezone, 'Europe/Oslo');
    assert.deepEqual([v.nextRunAt, v.suspended], [null, { by: 'node', name: 'pg01' }]);
  });
});
